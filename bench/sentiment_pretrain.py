"""A word-level language model of IMDB's training reviews, to start the sentiment classifier from (Dai & Le 2015).

    python bench/sentiment_pretrain.py --name NAME [--reverse] [--seed S] [--data-dir DIR] [-- textgen options]
    python bench/sentiment_pretrain.py --redraw

1. `python -m apps.sentiment lm-text --train-file imdb/train.jsonl.gz` writes
   the training side of the classifier's carve (22,500 reviews; the 2,500
   validation reviews never reach the language model), tokenised as the
   classifier reads them, to bench/runs/imdb-lm-text.txt (once).
2. `python -m apps.textgen train --mode text --level word` on it, into
   bench/runs/imdb-lm-NAME, with the classifier's encoder (GRU 128 over 128-wide
   embeddings, one layer) unless the options after `--` say otherwise.

Records the language model (time, epochs, validation NLL per word and
perplexity, from its metrics.csv) in bench/results/sentiment_pretrain_runs.json
and rewrites bench/results/sentiment_pretrain.md, whose second table lists
the classifiers of bench/sentiment_imdb.py's registry started from these
models (`-- --init-from bench/runs/imdb-lm-NAME`), with the total time.
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
        "# Sentiment: word-level language models of IMDB's training reviews to start the classifier from",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, one benchmark at a time. `python "
        "bench/sentiment_pretrain.py --name NAME [--reverse] -- OPTIONS` trains `python -m apps.textgen train "
        "--mode text --level word` on the 22,500 training reviews of the classifier's carve (written by `python "
        "-m apps.sentiment lm-text [--reverse]`; the 2,500 validation reviews are never seen). The language "
        "model's validation is the end of its text (training reviews); NLL per word in nats from the full "
        "softmax. gru128-batch256-lr4e-3 (session 19) shared the cores with an NER run and the tests for all "
        "of its epochs: its time is an upper bound (its epochs alone were not measured).",
        "",
        "| name | reads | the training side of the carve of | language model options | epochs "
        "| best val NLL per word (perplexity) | at epoch | time |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        *[f"| {name} | {'backwards' if run.get('reverse') else 'forwards'} | --seed {run.get('carve_seed', 0)} | "
          f"`{' '.join(run['options'])}` | "
          f"{run['epochs']} | {run['val_nll']:.3f} ({math.exp(run['val_nll']):.0f}) | {run['best_epoch']} | "
          f"{run['minutes']:.1f} min (+{run['text_minutes']:.1f} min writing the text) |"
          for name, run in runs.items()],
        "",
        "Classifiers started from them (`python bench/sentiment_imdb.py --name NAME -- --init-from "
        "bench/runs/imdb-lm-FORWARD [--init-backward-from bench/runs/imdb-lm-BACKWARD]`; their rows in "
        "sentiment_imdb.md). Total: the language models, their texts and the classifier.",
        "",
        "| classifier | started from | best val accuracy | at epoch | classifier time | total time |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, run in classifiers.items():
        options = run["options"]
        used = [options[i + 1].rstrip("/").split("imdb-lm-")[-1] for i, option in enumerate(options)
                if option in ("--init-from", "--init-backward-from")]
        if not used or any(lm not in runs for lm in used):
            continue
        total = run["minutes"] + sum(runs[lm]["minutes"] + runs[lm]["text_minutes"] for lm in used)
        lines.append(f"| {name} | {' + '.join(used)} | {100 * run['best_val_accuracy']:.2f}% | {run['best_epoch']} "
                     f"| {run['minutes']:.1f} min | {total:.1f} min |")
    (RESULTS / "sentiment_pretrain.md").write_text("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", help="the language model's name (required unless --redraw)")
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--runs", default=str(ROOT / "bench" / "runs"))
    parser.add_argument("--reverse", action="store_true", help="a language model of the reviews read backwards")
    parser.add_argument("--seed", type=int, default=0,
                        help="the classifier's --seed, whose carve's training side the text is (default 0)")
    parser.add_argument("--redraw", action="store_true", help="rewrite the table from the registry; train nothing")
    parser.add_argument("extra", nargs="*", help="textgen train options, after --")
    args = parser.parse_args()
    registry = RESULTS / "sentiment_pretrain_runs.json"
    runs = json.loads(registry.read_text()) if registry.exists() else {}
    if args.redraw:
        write_table(runs)
        return
    if not args.name:
        parser.error("--name is required to train a language model")
    runs_dir = pathlib.Path(args.runs)
    stem = "imdb-lm-text" + ("-reverse" if args.reverse else "") + (f"-seed{args.seed}" if args.seed else "")
    text, timing = runs_dir / f"{stem}.txt", runs_dir / f"{stem}.json"
    if not text.exists():
        start = time.time()
        cmd = [sys.executable, "-m", "apps.sentiment", "lm-text", "--train-file",
               os.path.join(args.data_dir, "imdb", "train.jsonl.gz"), "--output", str(text),
               "--seed", str(args.seed), *(["--reverse"] if args.reverse else [])]
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
    runs[args.name] = {"options": options, "reverse": args.reverse, "carve_seed": args.seed,
                       "text_minutes": text_minutes,
                       **language_model_summary(run_dir)}
    registry.write_text(json.dumps(runs, indent=1) + "\n")
    write_table(runs)
    print((RESULTS / "sentiment_pretrain.md").read_text())


if __name__ == "__main__":
    main()
