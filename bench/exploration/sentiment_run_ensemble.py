"""Exploration (issue 20): would averaging finished sentiment runs beat each of them?

    python bench/exploration/sentiment_run_ensemble.py RUN_DIR RUN_DIR ...

Loads each finished run (the best epoch), scores the validation carve it was selected on (every run must carve the
same reviews: checked), takes each run's log-odds (the mean of its branches'), and prints the accuracy of every
combination of the runs, their log-odds averaged. Every figure is on the split the checkpoints were chosen on.
"""

import itertools
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from apps.common.app import load_run  # noqa: E402
from apps.common.evaluation import compiled, map_batches  # noqa: E402
from apps.sentiment.cli import APP  # noqa: E402
from apps.sentiment.data import load_training_data  # noqa: E402
from datasets.text_classification import make_dataset  # noqa: E402


def log_odds(run_dir):
    """(log-odds [N], labels [N]) of one run on its validation carve."""
    trained = load_run(APP, run_dir)
    _, (texts, labels), _ = load_training_data(trained.options)
    ds = make_dataset(texts, labels, trained.encoders, batch_size=256, max_length=trained.options.max_length,
                      shuffle=False, seed=0)
    outputs = map_batches(compiled(lambda ids, y: (trained.model(ids, training=False), y)), ds)
    logits = np.concatenate([z for z, _ in outputs])
    return logits.mean(axis=1), np.concatenate([y for _, y in outputs]).astype(int)


def main(run_dirs):
    scored = [log_odds(run_dir) for run_dir in run_dirs]
    truth = scored[0][1]
    assert all(np.array_equal(labels, truth) for _, labels in scored), "the runs carve different reviews"
    for size in range(1, len(run_dirs) + 1):
        for members in itertools.combinations(range(len(run_dirs)), size):
            mean = np.mean([scored[m][0] for m in members], axis=0)
            names = " + ".join(pathlib.Path(run_dirs[m]).name.removeprefix("imdb-") for m in members)
            print(f"{names}: accuracy {100 * ((mean > 0).astype(int) == truth).mean():.2f}%", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
