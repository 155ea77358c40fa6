"""Exploration (issue 20): would an ensemble of finished NER runs beat its members? Averages their CRF scores.

    python bench/exploration/ner_seed_ensemble.py RUN_DIR RUN_DIR ...
    python bench/exploration/ner_seed_ensemble.py --summary RUN_DIR ...   # per size: mean, min and max F1

An ensemble run (`--ensemble M`) counts as its M members, each named RUN_DIR[m]. RUN_DIR@latest stands for the run's
last epoch (the weights in RUN_DIR/backup/latest.weights.h5, which the harness keeps) instead of its best checkpoint.

Loads each finished run, scores CoNLL-2003 eng.testa (../shared/data/conll2003/valid.txt), and for every
combination of the runs decodes the mean of their emissions with the mean of their transition, start and end scores
(Viterbi in NumPy), printing entity F1. The runs must read the file in the same order (same batching): checked.
"""

import itertools
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from apps.common.app import load_run  # noqa: E402
from apps.ner.cli import APP  # noqa: E402
from apps.ner.data import load_evaluation_data, make_dataset  # noqa: E402
from apps.ner.metrics import conlleval  # noqa: E402
from apps.ner.model import _crfs  # noqa: E402

VALID = ROOT.parent / "shared" / "data" / "conll2003" / "valid.txt"


def scores_of(run_dir):
    """Per member of one finished run: each sentence's emissions [n, K] and gold ids [n], and the CRF's scores."""
    run_dir, latest = str(run_dir).removesuffix("@latest"), str(run_dir).endswith("@latest")
    trained = load_run(APP, run_dir)
    if latest:
        trained.model.load_weights(pathlib.Path(run_dir) / "backup" / "latest.weights.h5")
    dataset = make_dataset(trained.options, trained.encoders, load_evaluation_data(trained.options, str(VALID)),
                           batch_size=128)
    crfs = _crfs(trained.model)
    emissions, gold = [[] for _ in crfs], []
    for inputs, truth in dataset:
        scores = trained.model.predict_on_batch(inputs)
        if len(crfs) == 1:
            scores = scores[:, :, None]
        for row_scores, row_truth in zip(scores, truth.numpy()):
            n = int((row_truth >= 0).sum())
            for m in range(len(crfs)):
                emissions[m].append(row_scores[:n, m])
            gold.append(row_truth[:n])
    name = pathlib.Path(run_dir).name + ("@latest" if latest else "")
    return [{"name": name if len(crfs) == 1 else f"{name}[{m}]", "emissions": emissions[m], "gold": gold,
             "tags": trained.options.tags,
             "crf": [w.numpy() for w in (crf.transitions, crf.start_scores, crf.end_scores)]}
            for m, crf in enumerate(crfs)]


def viterbi(emissions, transitions, start, end):
    delta, pointers = start + emissions[0], []
    for emission in emissions[1:]:
        scores = delta[:, None] + transitions
        pointers.append(scores.argmax(0))
        delta = scores.max(0) + emission
    path = [int((delta + end).argmax())]
    for back in reversed(pointers):
        path.append(int(back[path[-1]]))
    return path[::-1]


def main(run_dirs, summary=False):
    runs = [member for run_dir in run_dirs for member in scores_of(run_dir)]
    for run in runs[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(run["gold"], runs[0]["gold"])), "sentence order differs"
    tags = runs[0]["tags"]
    gold = [[tags[i] for i in row] for row in runs[0]["gold"]]
    for size in range(1, len(runs) + 1):
        figures = []
        for members in itertools.combinations(range(len(runs)), size):
            crf = [np.mean([runs[m]["crf"][i] for m in members], axis=0) for i in range(3)]
            predicted = [[tags[i] for i in viterbi(np.mean([runs[m]["emissions"][s] for m in members], axis=0), *crf)]
                         for s in range(len(gold))]
            figures.append(100 * conlleval(gold, predicted)["f1"])
            if not summary or size == 1:
                print(f"{' + '.join(runs[m]['name'] for m in members)}: entity F1 {figures[-1]:.2f}", flush=True)
        if summary:
            print(f"{size} members, {len(figures)} combinations: entity F1 mean {np.mean(figures):.2f}, "
                  f"min {min(figures):.2f}, max {max(figures):.2f}", flush=True)


if __name__ == "__main__":
    summary = "--summary" in sys.argv[1:]
    main([arg for arg in sys.argv[1:] if arg != "--summary"], summary=summary)
