"""Latency and throughput of the exported SavedModels on the CPU, as a server would call them.

    python bench/serving.py --sentiment bench/runs/imdb-gru --ner bench/runs/ner-conll2003-large \
        --translation bench/runs/translation-dates --music bench/runs/music-oneills1850

Exports each run with `python -m apps export-all` into a temporary folder,
loads the SavedModels (nothing of ours is needed to call them), then per
signature: latency of single-example requests (p50, p99 over --requests) and
examples per second in batches of 64. Writes bench/results/serving.md.
"""

import argparse
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent

TEXTS = {
    "sentiment": ["A wonderful, moving film with a superb cast.", "Two hours I will never get back.",
                  "The plot was thin but the acting carried it, and the ending surprised me."],
    "ner": ["Angela Merkel visited Paris on Tuesday.", "Harry Potter and Hermione Granger went to London.",
            "The European Union rejected the German call to boycott British lamb."],
    "translation": ["3 May 1979", "Tuesday, 10 July 2001", "09/05/88", "¿Dónde está la estación de tren?",
                    "Tom no sabe nadar."],
}


def requests_for(app, signature, batch, rng, vocabulary_size=None):
    """Keyword arguments of one call with `batch` examples."""
    import tensorflow as tf

    if app == "music":
        if signature == "generate":
            return dict(primer=tf.constant([], tf.int32), length=tf.constant(64), temperature=tf.constant(1.0),
                        seed=tf.constant(int(rng.integers(1 << 30))))
        return {"events": tf.constant(rng.integers(2, vocabulary_size, size=(batch, 64)), tf.int32)}
    texts = [TEXTS[app][i % len(TEXTS[app])] for i in range(batch)]
    name = {"sentiment": "texts", "ner": "sentences", "translation": "texts"}[app]
    if signature == "tag_tokens":
        tokens = [t.split() for t in texts]
        width = max(map(len, tokens))
        return {"tokens": tf.constant([t + [""] * (width - len(t)) for t in tokens])}
    return {name: tf.constant(texts)}


def measure(function, make_kwargs, requests, batches, per_batch=64):
    function(**make_kwargs(1))  # warm up: the first call traces
    function(**make_kwargs(64))
    latencies = []
    for _ in range(requests):
        kwargs = make_kwargs(1)
        started = time.perf_counter()
        function(**kwargs)
        latencies.append(time.perf_counter() - started)
    started = time.perf_counter()
    for _ in range(batches):
        function(**make_kwargs(64))
    seconds = time.perf_counter() - started
    return 1000 * np.percentile(latencies, 50), 1000 * np.percentile(latencies, 99), per_batch * batches / seconds


def main():
    parser = argparse.ArgumentParser()
    for app in ("sentiment", "ner", "translation", "music"):
        parser.add_argument(f"--{app}", help=f"run directory of apps.{app}")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--batches", type=int, default=20)
    args = parser.parse_args()
    runs = {app: getattr(args, app) for app in ("sentiment", "ner", "translation", "music") if getattr(args, app)}
    export_base = pathlib.Path(tempfile.mkdtemp(prefix="seqapps-serving-"))
    command = [sys.executable, "-m", "apps", "export-all", "--export-base", str(export_base)]
    command += [x for app, run in runs.items() for x in (f"--{app}", run)]
    subprocess.run(command, cwd=ROOT, check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})

    import tensorflow as tf

    rng = np.random.default_rng(0)
    rows = []
    for app, run in runs.items():
        loaded = tf.saved_model.load(str(export_base / app / "1"))
        vocabulary_size = None
        if app == "music":
            probe = loaded.signatures["serving_default"](events=tf.zeros([1, 1], tf.int32))
            vocabulary_size = int(probe["probabilities"].shape[-1])
        for signature, function in loaded.signatures.items():
            p50, p99, throughput = measure(
                function, lambda batch: requests_for(app, signature, batch, rng, vocabulary_size),
                args.requests if signature != "generate" else args.requests // 10,
                args.batches if signature != "generate" else 5, 64 if signature != "generate" else 1)
            unit = "generations of 64 events" if signature == "generate" else "examples"
            rows.append(f"| {app} | `{signature}` | {run} | {p50:.1f} | {p99:.1f} | {throughput:,.0f} {unit}/s |")
            print(rows[-1], flush=True)
    text = "\n".join([
        "# Serving: exported SavedModels on the CPU\n",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, TensorFlow {tf.__version__}; one process calling "
        f"the signatures directly (no HTTP). Latency: {args.requests} single-example requests; throughput: "
        f"{args.batches} batches of 64. `generate`: 64 events per call, batch of one tune.\n",
        "| app | signature | run | p50 ms | p99 ms | throughput, batches of 64 |",
        "| --- | --- | --- | --- | --- | --- |", *rows])
    (ROOT / "bench" / "results" / "serving.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
