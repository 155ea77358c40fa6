"""What each app's tf.data training pipeline delivers, against what its model consumes, and padding waste.

    python bench/pipelines.py --sentiment bench/runs/imdb-gru --ner bench/runs/ner-conll2003-large \
        --translation bench/runs/translation-dates

Each run directory gives the data options and vocabularies of a finished
training run, and its metrics.csv the rate at which the model consumed
training examples (examples / seconds of the first epoch). The pipeline is
rebuilt exactly as `train` builds it, iterated once to fill its cache, then
timed over a second pass (the steady state of epochs 2 and on). Padding waste:
padded positions / all positions of the main input, with the length bucketing
the apps use and with plain shuffled `padded_batch` batches of the same size.
Writes bench/results/pipelines.md.
"""

import argparse
import csv
import json
import os
import pathlib
import platform
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import apps  # noqa: E402,F401  binds `datasets` to ours


def sentiment_pipeline(run_dir, options):
    from apps.sentiment.data import load_training_data
    from datasets.text_classification import make_dataset, make_vectorizer

    (texts, labels), _, _ = load_training_data(options)
    vocabulary = (run_dir / "vocabulary" / "tokens.txt").read_text(encoding="utf-8").split("\n")[:-1]
    vectorizer = make_vectorizer(options["max_tokens"], vocabulary)
    ds = make_dataset(texts, labels, vectorizer=vectorizer, batch_size=options["batch_size"],
                      max_length=options["max_length"], seed=options["seed"], shuffle=True)
    return ds, len(texts), lambda x, y: x


def ner_pipeline(run_dir, options):
    from apps.ner.data import load_training_data
    from datasets.conll import make_dataset, make_lookups

    train, _, _ = load_training_data(options)
    read = lambda name: (run_dir / "vocabulary" / f"{name}.txt").read_text(encoding="utf-8").split("\n")[:-1]
    word_lookup, char_lookup = make_lookups(read("words"), read("chars"))
    tag_index = {t: i for i, t in enumerate(options["tags"])}
    ds = make_dataset(train, tag_index, word_lookup, char_lookup, batch_size=options["batch_size"],
                      max_chars=options["max_chars"], shuffle=True, seed=options["seed"])
    return ds, len(train), lambda x, y: x["words"]


def translation_pipeline(run_dir, options):
    from apps.translation.data import load_training_data
    from datasets.seq2seq import make_dataset, make_lookup

    train, _ = load_training_data(options)
    read = lambda name: (run_dir / "vocabulary" / f"{name}.txt").read_text(encoding="utf-8").split("\n")[:-1]
    lowercase_target = options.get("target_case", "lower") == "lower"
    ds = make_dataset(train, source_lookup={"lookup": make_lookup(read("source")), "level": options["level"]},
                      target_lookup={"lookup": make_lookup(read("target")), "level": options["level"],
                                     "lowercase": lowercase_target},
                      max_length=options["max_length"], batch_size=options["batch_size"],
                      shuffle=True, seed=options["seed"])
    return ds, len(train), lambda x, y: x["source"]


PIPELINES = {"sentiment": sentiment_pipeline, "ner": ner_pipeline, "translation": translation_pipeline}


def padding_waste(ds, main_input):
    import numpy as np

    real = total = 0
    for x, y in ds:
        ids = np.asarray(main_input(x, y))
        real += int((ids != 0).sum())
        total += ids.size
    return 1 - real / total


def examples_per_second(ds):
    started, n = time.perf_counter(), 0
    for x, y in ds:
        n += int(y.shape[0])
    return n / (time.perf_counter() - started), n


def model_rate(run_dir, n_train):
    rows = list(csv.DictReader(open(run_dir / "metrics.csv")))
    return n_train / float(rows[0]["elapsed_seconds"])


def main():
    parser = argparse.ArgumentParser()
    for app in PIPELINES:
        parser.add_argument(f"--{app}", help=f"a finished run directory of apps.{app}")
    args = parser.parse_args()
    rows = []
    for app, build in PIPELINES.items():
        run = getattr(args, app)
        if not run:
            continue
        run_dir = pathlib.Path(run)
        options = json.loads((run_dir / "config.json").read_text())["options"]
        ds, n_train, main_input = build(run_dir, options)
        examples_per_second(ds)  # fills the cache, as the first epoch does
        rate, n = examples_per_second(ds)
        consumed = model_rate(run_dir, n_train)
        bucketed = padding_waste(ds, main_input)
        # The same examples fully reshuffled (so the buckets' grouping is gone), in plain padded batches.
        plain = padding_waste(ds.unbatch().shuffle(n, seed=0).padded_batch(options["batch_size"]), main_input)
        rows.append(f"| {app} | {run} | {n:,} | {rate:,.0f} | {consumed:,.0f} | {rate / consumed:,.0f}x | "
                    f"{100 * bucketed:.1f}% | {100 * plain:.1f}% |")
        print(rows[-1], flush=True)
    import tensorflow as tf

    text = "\n".join([
        "# Training pipelines: delivered vs consumed, and padding\n",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, TensorFlow {tf.__version__}. Pipeline: examples "
        "per second over one pass after the cache is filled. Model: training examples per second of the run's "
        "first epoch (metrics.csv; its time includes validation and tracing, so the model figure is a little low). "
        "Padding: share of padded positions in the main input.\n",
        "| app | run | examples | pipeline, examples/s | model, examples/s | headroom | padding, bucketed | "
        "padding, no bucketing |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |", *rows])
    (ROOT / "bench" / "results" / "pipelines.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
