"""A word-level language model of IMDB's training reviews, to start the sentiment classifier from (Dai & Le 2015).

    python bench/sentiment_pretrain.py --name NAME [--data-dir ../shared/data] [-- textgen train options]

1. `python -m apps.sentiment lm-text --train-file imdb/train.jsonl.gz` writes
   the training side of the classifier's carve (22,500 reviews; the 2,500
   validation reviews never reach the language model), tokenised as the
   classifier reads them, to bench/runs/imdb-lm-text.txt (once).
2. `python -m apps.textgen train --mode text --level word` on it, into
   bench/runs/imdb-lm-NAME, with the classifier's encoder (GRU 128 over 128-wide
   embeddings, one layer) unless the options after `--` say otherwise.

Records the language model (time, epochs, validation NLL per word and
perplexity, from its metrics.csv) in bench/results/sentiment_pretrain_runs.json
and rewrites bench/results/sentiment_pretrain.md, whose last columns are the
classifier started from it, read from bench/sentiment_imdb.py's registry
(run it with `--name lm-NAME -- --init-from bench/runs/imdb-lm-NAME`).
"""

import argparse
import csv
import json
import math
import os
import pathlib
import platform
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
ENCODER = ["--layers", "1", "--cell", "gru", "--units", "128", "--embedding-dim", "128"]


def language_model_summary(run_dir):
    """{epochs, best val NLL per word, its epoch, training minutes} from a textgen run's metrics.csv."""
    with open(run_dir / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    best = min(rows, key=lambda row: float(row["val_loss"]))
    return {"epochs": len(rows), "val_nll": float(best["val_loss"]), "best_epoch": int(best["epoch"]) + 1,
            "minutes": float(rows[-1]["elapsed_seconds"]) / 60}


def write_table(runs):
    classifiers = RESULTS / "sentiment_imdb_runs.json"
    classifiers = json.loads(classifiers.read_text()) if classifiers.exists() else {}
    lines = [
        "# Sentiment: a word-level language model of IMDB's training reviews to start the classifier from",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, one benchmark at a time. `python "
        "bench/sentiment_pretrain.py --name NAME -- OPTIONS` trains `python -m apps.textgen train --mode text "
        "--level word` on the 22,500 training reviews of the classifier's carve (written by `python -m "
        "apps.sentiment lm-text`; the 2,500 validation reviews are never seen), then `python "
        "bench/sentiment_imdb.py --name lm-NAME -- --init-from bench/runs/imdb-lm-NAME` trains the classifier "
        "from it (its row in sentiment_imdb.md). The language model's validation is the last 10% of its text "
        "(training reviews); NLL per word in nats, full softmax, the end mark of no line counted (running text).",
        "",
        "| name | language model options | epochs | best val NLL per word (perplexity) | at epoch | LM time "
        "| classifier: best val accuracy | classifier time | total time |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, run in runs.items():
        classifier = classifiers.get(f"lm-{name}")
        accuracy = f"{100 * classifier['best_val_accuracy']:.2f}%" if classifier else "(not run)"
        minutes = f"{classifier['minutes']:.1f} min" if classifier else ""
        total = f"{run['minutes'] + run['text_minutes'] + classifier['minutes']:.1f} min" if classifier else ""
        lines.append(f"| {name} | `{' '.join(run['options'])}` | {run['epochs']} | {run['val_nll']:.3f} "
                     f"({math.exp(run['val_nll']):.0f}) | {run['best_epoch']} | {run['minutes']:.1f} min "
                     f"(+{run['text_minutes']:.1f} min writing the text) | {accuracy} | {minutes} | {total} |")
    (RESULTS / "sentiment_pretrain.md").write_text("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--runs", default=str(ROOT / "bench" / "runs"))
    parser.add_argument("--redraw", action="store_true", help="rewrite the table from the registry; train nothing")
    parser.add_argument("extra", nargs="*", help="textgen train options, after --")
    args = parser.parse_args()
    registry = RESULTS / "sentiment_pretrain_runs.json"
    runs = json.loads(registry.read_text()) if registry.exists() else {}
    if args.redraw:
        write_table(runs)
        return
    runs_dir = pathlib.Path(args.runs)
    text, timing = runs_dir / "imdb-lm-text.txt", runs_dir / "imdb-lm-text.json"
    if not text.exists():
        start = time.time()
        cmd = [sys.executable, "-m", "apps.sentiment", "lm-text", "--train-file",
               os.path.join(args.data_dir, "imdb", "train.jsonl.gz"), "--output", str(text)]
        print("$", " ".join(cmd), flush=True)
        subprocess.run(cmd, cwd=ROOT, check=True)
        timing.write_text(json.dumps({"minutes": (time.time() - start) / 60}) + "\n")
    text_minutes = json.loads(timing.read_text())["minutes"]
    run_dir = runs_dir / f"imdb-lm-{args.name}"
    options = [*ENCODER, *args.extra]
    cmd = [sys.executable, "-m", "apps.textgen", "train", "--run-dir", str(run_dir), "--train-file", str(text),
           "--mode", "text", "--level", "word", *options]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)
    runs = json.loads(registry.read_text()) if registry.exists() else {}
    runs[args.name] = {"options": options, "text_minutes": text_minutes, **language_model_summary(run_dir)}
    registry.write_text(json.dumps(runs, indent=1) + "\n")
    write_table(runs)
    print((RESULTS / "sentiment_pretrain.md").read_text())


if __name__ == "__main__":
    main()
