"""Throughput of every app's `evaluate` (and the polyphonic validation NLL), at the apps' default sizes.

    python bench/evaluate_speed.py [--data-dir ../shared/data] [--runs bench/runs/evaluate_speed]

Speed depends on the architecture and the data, not on how well the weights
are trained, so each app first trains its default model briefly (one epoch on
a slice of its training data; commands in the output), then its `evaluate`
command runs in this process (click's test runner), timed from the call to
the written evaluation.json: reading, vectorising, scoring, writing. Python's
start-up and imports are not counted; they are the same for any data size.
Writes bench/results/evaluate_speed.md.
"""

import argparse
import gzip
import json
import os
import pathlib
import platform
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
NOTES = []


def train(app, run_dir, *args):
    """Train a run with the app's CLI, in a subprocess (skipped when the run exists); returns the command."""
    command = [sys.executable, "-m", f"apps.{app}", "train", "--run-dir", str(run_dir), *map(str, args)]
    if not (run_dir / "model.keras").exists():
        print("$", " ".join(command), flush=True)
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    shown = " ".join(["python", "-m", f"apps.{app}", "train", "--run-dir", run_dir.name, *map(str, args)])
    return shown.replace(str(ROOT) + "/", "").replace(str(ROOT.parent / "shared"), "../shared")


def timed_evaluate(app, *args):
    """(seconds, evaluation dict) of `python -m apps.APP evaluate ARGS`, run in this process."""
    import importlib

    from click.testing import CliRunner

    cli = importlib.import_module(f"apps.{app}.cli").cli
    start = time.perf_counter()
    result = CliRunner().invoke(cli, ["evaluate", *map(str, args)], catch_exceptions=False)
    seconds = time.perf_counter() - start
    if result.exit_code != 0:
        raise SystemExit(f"{app} evaluate failed:\n{result.output}")
    run_dir = pathlib.Path(args[args.index("--run-dir") + 1])
    return seconds, json.loads((run_dir / "evaluation.json").read_text())


def every_nth_line(source, target, step):
    """Every step-th line of a gzip file (IMDB's file is sorted by label: a head would hold one label)."""
    with gzip.open(source, "rt", encoding="utf-8") as src, open(target, "w", encoding="utf-8") as out:
        for number, line in enumerate(src):
            if number % step == 0:
                out.write(line)
    return target


def sentiment(data, runs, rows):
    imdb = data / "imdb" / "train.jsonl.gz"
    run_dir = runs / "sentiment"
    slice_file = every_nth_line(imdb, runs / "imdb-every-12th.jsonl", 12)
    command = train("sentiment", run_dir, "--train-file", slice_file, "--epochs", 1, "--pretrain-epochs", 0)
    seconds, result = timed_evaluate("sentiment", "--run-dir", run_dir, "--test-file", imdb)
    rows.append(("sentiment", "BiGRU 128 (defaults)", "IMDB train.jsonl.gz, all 25,000 reviews", result["examples"],
                 "reviews", seconds, command))
    NOTES.append(sentiment_compute(run_dir, imdb, result["examples"] / seconds))


def sentiment_compute(run_dir, imdb, reviews_per_second):
    """What the BiGRU's recurrence costs per review, and the arithmetic rate the measured throughput means."""
    import numpy as np

    from apps.common.app import load_run
    from apps.sentiment.cli import APP
    from apps.sentiment.data import load_evaluation_data
    from datasets.text_classification import token_ids

    trained = load_run(APP, run_dir)
    options = trained.options
    texts, _ = load_evaluation_data(options, options.labels, str(imdb))
    lengths = np.concatenate([token_ids(trained.encoders, texts[i:i + 1000], options.max_length).row_lengths()
                              for i in range(0, len(texts), 1000)])
    # A GRU step: 3 gates, each an input and a recurrent matmul (embedding_dim and units wide): 2 FLOPs a multiply-add.
    per_step = 2 * 3 * (options.embedding_dim + options.units) * options.units
    per_review = 2 * per_step * float(lengths.mean())  # two directions
    return (f"Sentiment: reviews average {lengths.mean():.0f} tokens after the {options.max_length}-token cut; "
            f"the bidirectional GRU's matmuls cost {per_review / 1e6:.0f} MFLOP per review, so "
            f"{reviews_per_second:,.0f} reviews/s is {per_review * reviews_per_second / 1e9:.0f} GFLOP/s in the "
            f"recurrence alone, against a matmul peak of 111-125 GFLOP/s measured on this machine "
            f"(bench/results/cells_tensorflow.md). 2,000 reviews/s would need "
            f"{per_review * 2000 / 1e9:.0f} GFLOP/s.")


def ner(data, runs, rows):
    conll = data / "conll2003"
    run_dir = runs / "ner"
    command = train("ner", run_dir, "--train-file", conll / "train.txt", "--valid-file", conll / "valid.txt",
                    "--epochs", 1, "--ensemble", 1)
    seconds, result = timed_evaluate("ner", "--run-dir", run_dir, "--test-file", conll / "valid.txt")
    sentences = sum(1 for block in (conll / "valid.txt").read_text().split("\n\n")
                    if block.strip() and not block.startswith("-DOCSTART-"))
    rows.append(("ner", "BiLSTM + char CNN + CRF, one tagger (`--ensemble 1`)", "CoNLL-2003 eng.testa", sentences, "sentences",
                 seconds, command))


def translation(data, runs, rows):
    run_dir = runs / "translation"
    command = train("translation", run_dir, "--train-size", 5000, "--epochs", 1)
    for beam in (1, 4):
        seconds, result = timed_evaluate("translation", "--run-dir", run_dir, "--size", 10000, "--beam-size", beam)
        rows.append(("translation", f"dates, defaults, beam {beam}", "10,000 new generated dates", result["pairs"],
                     "dates", seconds, command))


def music(data, runs, rows):
    run_dir = runs / "music"
    command = train("music", run_dir, "--epochs", 1, "--limit", 400)
    seconds, result = timed_evaluate("music", "--run-dir", run_dir)
    rows.append(("music", "2 x GRU 256 (defaults)", f"O'Neill's 1850, first 400 tunes, validation {result['tunes']}",
                 result["events"], "events", seconds, command))


def polyphonic(data, runs, rows):
    """The validation NLL that the benchmark's callback computes every epoch (JSB, whole pieces)."""
    import keras

    from datasets.polyphonic import make_dataset, read_piano_rolls, split_paths
    from apps.music import polyphonic as poly

    _, valid_path = split_paths(str(data / "polyphonic"), "jsb_chorales")
    valid = make_dataset(read_piano_rolls(valid_path), batch_size=8, shuffle=False, seed=0)
    keras.utils.set_random_seed(0)
    model = poly.build_model("gru", poly.CHUNG_UNITS["gru"])
    step = poly.nll_step(model)
    poly.nll_per_step(model, valid, step)  # the first epoch traces; later epochs reuse the traces
    start = time.perf_counter()
    poly.nll_per_step(model, valid, step)
    seconds = time.perf_counter() - start
    steps = sum(float(w.numpy().sum()) for _, _, w in valid)
    rows.append(("music benchmark", "GRU 46 (Chung et al.'s size), validation NLL callback",
                 "JSB Chorales validation, 76 pieces", int(steps), "time steps", seconds,
                 "in-process: apps.music.polyphonic.nll_per_step, second call (an epoch after the first)"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--runs", default=str(ROOT / "bench" / "runs" / "evaluate_speed"))
    parser.add_argument("--apps", default="sentiment,ner,translation,music,polyphonic")
    args = parser.parse_args()
    import apps  # noqa: F401  quiet TensorFlow, our `datasets`
    from apps.tensorflow_logs import filtered_stderr

    data, runs = pathlib.Path(args.data_dir), pathlib.Path(args.runs)
    runs.mkdir(parents=True, exist_ok=True)
    rows = []
    with filtered_stderr():  # the evaluations run in this process, past the CLI's own filter
        for app in args.apps.split(","):
            globals()[app](data, runs, rows)
            print(rows[-1], flush=True)
    lines = [
        "# Evaluation throughput of every app",
        "",
        f"`python bench/evaluate_speed.py` on {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; each `evaluate` timed in-process from the call to the written "
        "evaluation.json (reading, vectorising, scoring, writing; not Python's start-up).",
        "",
        "| app | model | data | examples | time | throughput | model trained by |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for app, model, label, n, unit, seconds, command in rows:
        lines.append(f"| {app} | {model} | {label} | {n:,} {unit} | {seconds:.2f} s | {n / seconds:,.0f} {unit}/s "
                     f"| `{command}` |")
    lines += ["", *NOTES]
    out = ROOT / "bench" / "results" / "evaluate_speed.md"
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
