"""What each branch of a sentiment ensemble is worth, on the run's own validation carve.

    python bench/sentiment_branches.py --run-dir bench/runs/imdb-one-recurrent-branch

Loads the run's model (the best epoch), scores the validation texts it was
selected on, and reports the accuracy of every branch alone, of the model's
own average (the mean of all branches' log-odds), and of two other ways of
combining the same logits: the recurrent branches' mean averaged with the
n-gram bag (each family weighted one half), and the recurrent branches alone.
Every figure is on the split the checkpoint was chosen on. Writes
bench/results/sentiment_imdb_branches_NAME.md for the run directory imdb-NAME.
"""

import argparse
import os
import pathlib
import platform
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--run-dir", default=str(ROOT / "bench" / "runs" / "imdb-one-recurrent-branch"))
    args = parser.parse_args()
    import numpy as np

    from apps.common.app import load_run
    from apps.common.evaluation import compiled, map_batches
    from apps.sentiment.cli import APP
    from apps.sentiment.data import load_training_data
    from datasets.text_classification import make_dataset

    trained = load_run(APP, args.run_dir)
    options = trained.options
    _, (texts, labels), _ = load_training_data(options)
    ds = make_dataset(texts, labels, trained.encoders, batch_size=256, max_length=options.max_length,
                      shuffle=False, seed=0)
    step = compiled(lambda ids, y: (trained.model(ids, training=False), y))
    outputs = map_batches(step, ds, description="scoring")
    logits = np.concatenate([z for z, _ in outputs])
    truth = np.concatenate([y for _, y in outputs]).astype(int)
    names = [f"recurrent branch {b}" for b in range(options.recurrent_branches)] + ["n-gram bag"] * bool(
        options.ngrams)
    accuracy = lambda z: float(((z > 0).astype(int) == truth).mean())  # noqa: E731
    rows = [(name, accuracy(logits[:, k])) for k, name in enumerate(names)]
    rows.append(("the model: mean of all branches' log-odds", accuracy(logits.mean(axis=1))))
    recurrent = logits[:, :options.recurrent_branches].mean(axis=1)
    rows.append(("recurrent branches' mean log-odds", accuracy(recurrent)))
    if options.ngrams:
        rows.append(("recurrent mean and bag, one half each", accuracy(recurrent + logits[:, -1])))
    lines = [
        "# What each branch of the sentiment ensemble is worth (IMDB validation carve, seed 0)\n",
        f"`python bench/sentiment_branches.py --run-dir {os.path.relpath(args.run_dir, ROOT)}` on "
        f"{platform.machine()}: the run's best checkpoint, {len(truth):,} validation reviews, the split that "
        "checkpoint was selected on (so every row flatters, and the combination rows are selected on it too).\n",
        "| branches | validation accuracy |", "| --- | --- |",
        *[f"| {name} | {100 * value:.2f}% |" for name, value in rows],
    ]
    name = pathlib.Path(args.run_dir).name.removeprefix("imdb-")
    out = ROOT / "bench" / "results" / f"sentiment_imdb_branches_{name}.md"
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
