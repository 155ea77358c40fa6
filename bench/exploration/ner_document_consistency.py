"""Exploration (issue 20): would making a document's predictions agree with each other help NER?

    python bench/exploration/ner_document_consistency.py RUN_DIR ...
    python bench/exploration/ner_document_consistency.py --gold    # the rules applied to the gold tags themselves

A name keeps its type within a news story far more often than a tagger that reads one sentence at a time
knows (Krishnan & Manning 2006; Ratinov & Roth 2009's non-local features). On eng.testa, split into its
stories at the -DOCSTART- lines, each finished run's predictions (its ensemble decoded as the app decodes
it) are rewritten by rules that look only at the predictions and the words, never at the gold tags:

  as predicted  the tagger's own tags
  type vote     every mention of a name (the same words) takes the type most of its mentions in the story have
                (a tie keeps each mention's own)
  extend        and more: a capitalised word sequence that is a name predicted elsewhere in the story is tagged
                with that name's type wherever the tagger left it out entirely (all O)
  last names    type vote, and a one-word mention that is the last word of a longer name of the story takes that
                name's type (Clinton after Bill Clinton)

prints entity F1 (conlleval) for each.
"""

import collections
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from ner_seed_ensemble import VALID, viterbi  # noqa: E402
import tensorflow as tf  # noqa: E402

from apps.common.app import load_run  # noqa: E402
from apps.ner.cli import APP  # noqa: E402
from apps.ner.data import make_dataset  # noqa: E402
from apps.ner.documents import _iob2, _left_out, _winner  # noqa: E402  the app's own rule's parts
from apps.ner.model import _crfs  # noqa: E402

from apps.ner.metrics import conlleval, entities  # noqa: E402
from datasets.conll import DOCSTART, normalize_words, read_conll, to_iob2  # noqa: E402


def stories(path):
    """The story index of each sentence of a CoNLL file, in file order (a story starts at each -DOCSTART-)."""
    starts = [number for number, line in enumerate(open(path), 1) if line.startswith(DOCSTART)]
    return [int(np.searchsorted(starts, first_line, side="right")) for _, _, first_line in read_conll(path)]


def consistent(words, predicted, story, rule):
    """Rewritten tags of every sentence: `rule` applied within each story."""
    out = [list(tags) for tags in predicted]
    by_story = collections.defaultdict(list)
    for s, k in enumerate(story):
        by_story[k].append(s)
    for sentences in by_story.values():
        mentions = [(s, chunk) for s in sentences for chunk in entities(predicted[s])]
        types = collections.defaultdict(collections.Counter)
        for s, (kind, start, stop) in mentions:
            types[tuple(words[s][start:stop])][kind] += 1
        majority = {name: _winner(counts) for name, counts in types.items()}
        for s in sentences:
            chunks = []
            for kind, start, stop in entities(predicted[s]):
                name = tuple(words[s][start:stop])
                kind = majority[name] or kind
                if rule == "last names" and len(name) == 1:
                    longer = {majority[n] or "" for n in majority if len(n) > 1 and n[-1] == name[0]} - {""}
                    kind = longer.pop() if len(longer) == 1 else kind
                chunks.append((kind, start, stop))
            if rule == "extend":
                chunks += _left_out(words[s], predicted[s], majority)
            out[s] = _iob2(chunks, len(words[s]))
    return out


def predictions(run_dir, sentences):
    """Predicted tags of each of `sentences` (eng.testa in file order), the run's members decoded together as the
    app decodes them. The evaluation batches come bucketed by length: rows are matched back to the file's
    sentences by their word ids and gold tags."""
    trained = load_run(APP, run_dir)
    tags = trained.options.tags
    crfs = _crfs(trained.model)
    crf = [np.mean([w.numpy() for w in weights], axis=0)
           for weights in zip(*[(c.transitions, c.start_scores, c.end_scores) for c in crfs])]
    found = collections.defaultdict(list)
    for inputs, truth in make_dataset(trained.options, trained.encoders, sentences, batch_size=128):
        scores = trained.model.predict_on_batch(inputs)
        scores = scores if len(crfs) > 1 else scores[:, :, None]
        for words, row_scores, row_truth in zip(inputs["words"].numpy(), scores, truth.numpy()):
            n = int((row_truth >= 0).sum())
            path = viterbi(row_scores[:n].mean(axis=1), *crf)
            found[tuple(words[:n]), tuple(row_truth[:n])].append([tags[i] for i in path])
    index = {tag: i for i, tag in enumerate(tags)}
    word_ids = trained.encoders[0]
    out = []
    for tokens, gold, _ in sentences:
        key = (tuple(word_ids(normalize_words(tf.constant(tokens))).numpy()), tuple(index[t] for t in gold))
        out.append(found[key].pop(0))
    return out


def main(run_dirs):
    sentences = [(tokens, to_iob2(tags), line) for tokens, tags, line in read_conll(VALID)]
    words = [tokens for tokens, _, _ in sentences]
    gold = [tags for _, tags, _ in sentences]
    story = stories(VALID)
    print(f"eng.testa: {len(words)} sentences in {max(story)} stories")
    for run_dir in run_dirs:
        predicted = gold if run_dir == "--gold" else predictions(run_dir, sentences)
        figures = {"as predicted": conlleval(gold, predicted)["f1"]}
        for rule in ("type vote", "extend", "last names"):
            figures[rule] = conlleval(gold, consistent(words, predicted, story, rule))["f1"]
        print(pathlib.Path(run_dir).name, "  ".join(f"{rule} {100 * f1:.2f}" for rule, f1 in figures.items()),
              flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
