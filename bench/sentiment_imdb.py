"""IMDB validation accuracy of the sentiment app, per cell, and the time to reach 88%.

    python bench/sentiment_imdb.py --cells gru,lstm,rnn [--data-dir ../shared/data] [-- extra train options]

Trains with `python -m apps.sentiment train` on imdb/train.jsonl.gz (validation:
10% carved off with the seed) and writes bench/results/sentiment_imdb.md.
Reruns continue interrupted runs (BackupAndRestore).
"""

import argparse
import csv
import os
import pathlib
import platform
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def summarise(metrics_csv, threshold=0.88):
    rows = list(csv.DictReader(open(metrics_csv)))
    best = max(rows, key=lambda r: float(r["val_accuracy"]))
    reached = next((r for r in rows if float(r["val_accuracy"]) >= threshold), None)
    return {
        "best_val_accuracy": float(best["val_accuracy"]),
        "best_epoch": int(best["epoch"]) + 1,
        "epochs_run": len(rows),
        "seconds_to_88": float(reached["elapsed_seconds"]) if reached else None,
        "total_seconds": float(rows[-1]["elapsed_seconds"]),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", default="gru")
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--runs", default=str(ROOT / "bench" / "runs"))
    parser.add_argument("extra", nargs="*", help="more train options, after --")
    args = parser.parse_args()
    results = {}
    for cell in args.cells.split(","):
        run_dir = pathlib.Path(args.runs) / f"imdb-{cell}"
        cmd = [sys.executable, "-m", "apps.sentiment", "train", "--run-dir", str(run_dir),
               "--train-file", os.path.join(args.data_dir, "imdb", "train.jsonl.gz"), "--cell", cell, *args.extra]
        print("$", " ".join(cmd), flush=True)
        subprocess.run(cmd, cwd=ROOT, check=True)
        results[cell] = summarise(run_dir / "metrics.csv")
        print(cell, results[cell], flush=True)
    lines = [
        f"# Sentiment, IMDB validation (10% of train carved with seed 0)\n",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}; "
        f"options: defaults {' '.join(args.extra)}\n",
        "| cell | best val accuracy | at epoch | epochs run | time to 88% | total time |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for cell, r in results.items():
        t88 = f"{r['seconds_to_88'] / 60:.1f} min" if r["seconds_to_88"] is not None else "not reached"
        lines.append(f"| {cell} | {r['best_val_accuracy']:.4f} | {r['best_epoch']} | {r['epochs_run']} | {t88} "
                     f"| {r['total_seconds'] / 60:.1f} min |")
    out = ROOT / "bench" / "results" / "sentiment_imdb.md"
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
