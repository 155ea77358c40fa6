"""Entity-level precision, recall and F1 exactly as CoNLL's conlleval script computes them."""

import collections


def _split(tag):
    return ("O", None) if tag == "O" else (tag[0], tag[2:])


def entities(tags):
    """Chunks (type, start, end) of a tag sequence, with conlleval's rules.

    An I-X after O or after another type starts a chunk, as B-X does; a chunk
    ends at O, at B-, or at a change of type.
    """
    found, start, kind = [], None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, tag_type = _split(tag)
        if start is not None and (prefix in ("O", "B") or tag_type != kind):
            found.append((kind, start, i))
            start = None
        if prefix != "O" and start is None:
            start, kind = i, tag_type
    return found


def _prf(correct, predicted, gold):
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def conlleval(gold_sequences, predicted_sequences):
    """Scores over sentences (lists of tags): overall and per type, plus token accuracy."""
    counts = collections.defaultdict(lambda: [0, 0, 0])  # correct, predicted, gold
    tokens = correct_tokens = 0
    for gold, predicted in zip(gold_sequences, predicted_sequences):
        if len(gold) != len(predicted):
            raise ValueError(f"sentence lengths differ: {len(gold)} gold tags, {len(predicted)} predicted")
        tokens += len(gold)
        correct_tokens += sum(g == p for g, p in zip(gold, predicted))
        gold_chunks, predicted_chunks = set(entities(gold)), set(entities(predicted))
        for chunk in gold_chunks:
            counts[chunk[0]][2] += 1
        for chunk in predicted_chunks:
            counts[chunk[0]][1] += 1
            if chunk in gold_chunks:
                counts[chunk[0]][0] += 1
    total = [sum(c[i] for c in counts.values()) for i in range(3)]
    return {
        "tokens": tokens,
        "accuracy": correct_tokens / tokens if tokens else 0.0,
        "gold_entities": total[2],
        "found_entities": total[1],
        "correct_entities": total[0],
        **_prf(*total),
        "per_type": {kind: {**_prf(*c), "found": c[1], "gold": c[2]} for kind, c in sorted(counts.items())},
    }


def format_report(scores):
    """conlleval's own text layout."""
    lines = [
        f"processed {scores['tokens']} tokens with {scores['gold_entities']} phrases; "
        f"found: {scores['found_entities']} phrases; correct: {scores['correct_entities']}.",
        f"accuracy: {100 * scores['accuracy']:6.2f}%; precision: {100 * scores['precision']:6.2f}%; "
        f"recall: {100 * scores['recall']:6.2f}%; FB1: {100 * scores['f1']:6.2f}",
    ]
    for kind, s in scores["per_type"].items():
        lines.append(f"{kind:>17}: precision: {100 * s['precision']:6.2f}%; recall: {100 * s['recall']:6.2f}%; "
                     f"FB1: {100 * s['f1']:6.2f}  {s['found']}")
    return "\n".join(lines)
