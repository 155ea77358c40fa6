"""Our conlleval against seqeval on hand-made cases, I- starts included."""

import pytest
from seqeval.metrics import f1_score, precision_score, recall_score
from seqeval.scheme import IOB2

from apps.ner.metrics import conlleval, entities
from datasets.conll import to_iob2

CASES = [
    # (gold, predicted)
    (["B-PER", "I-PER", "O", "B-LOC"], ["B-PER", "I-PER", "O", "B-LOC"]),
    (["B-PER", "I-PER", "O", "B-LOC"], ["B-PER", "O", "O", "B-ORG"]),
    (["O", "I-PER", "I-PER", "O"], ["O", "B-PER", "I-PER", "O"]),          # entity starting with I-
    (["B-ORG", "I-ORG", "I-LOC", "O"], ["B-ORG", "I-ORG", "B-LOC", "O"]),   # type change inside
    (["I-MISC", "B-MISC", "O", "O"], ["I-MISC", "I-MISC", "O", "O"]),       # IOB1 adjacent entities
    (["O", "O", "O", "O"], ["I-LOC", "O", "B-PER", "I-ORG"]),               # false positives only
    (["B-LOC", "I-LOC", "I-LOC", "I-LOC"], ["B-LOC", "I-LOC", "O", "I-LOC"]),
]


def test_chunks_follow_conlleval():
    assert entities(["O", "I-PER", "I-PER", "B-PER", "I-LOC", "O"]) == [("PER", 1, 3), ("PER", 3, 4), ("LOC", 4, 5)]


@pytest.mark.parametrize("gold,predicted", CASES)
def test_agrees_with_seqeval_default_and_strict_iob2(gold, predicted):
    ours = conlleval([gold], [predicted])
    # seqeval's default mode reproduces conlleval ...
    assert ours["precision"] == pytest.approx(precision_score([gold], [predicted]))
    assert ours["recall"] == pytest.approx(recall_score([gold], [predicted]))
    assert ours["f1"] == pytest.approx(f1_score([gold], [predicted]))
    # ... and its strict IOB2 mode agrees once both sides are IOB2.
    g2, p2 = [to_iob2(gold)], [to_iob2(predicted)]
    assert ours["f1"] == pytest.approx(f1_score(g2, p2, mode="strict", scheme=IOB2))


def test_all_cases_together_and_per_type():
    gold = [g for g, _ in CASES]
    predicted = [p for _, p in CASES]
    ours = conlleval(gold, predicted)
    assert ours["f1"] == pytest.approx(f1_score(gold, predicted))
    assert ours["tokens"] == 28
    assert ours["accuracy"] == pytest.approx(sum(a == b for g, p in CASES for a, b in zip(g, p)) / 28)
    from seqeval.metrics import classification_report

    report = classification_report(gold, predicted, output_dict=True)
    types = {k for k in report if k not in ("micro avg", "macro avg", "weighted avg")}
    assert set(ours["per_type"]) == types and len(types) >= 3  # every type, on both sides
    for kind, scores in ours["per_type"].items():
        assert scores["f1"] == pytest.approx(report[kind]["f1-score"]), kind
