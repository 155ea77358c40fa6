"""Memory, time to the first step and throughput of training as the corpus grows.

    python bench/scale.py [--app sentiment|ner|translation|textgen] [--sizes 1,4,16,64] [--memory-sizes 1,4]
                          [--seconds 60] [--data-dir ../shared/data]

For each size k the app's training file (IMDB's train.jsonl.gz, 25,000
reviews; CoNLL-2003's train.txt, 14,041 sentences; spa-eng/pairs.tsv, 113,964
pairs; names/train.txt, 30,033 names) is repeated k times in a temporary directory, copy i in the order of
a shuffle with seed i (lines; NER: sentences), so that shards differ as a
real corpus's do: as k shard files for `--pipeline stream`, and as one
concatenated file for `--pipeline memory`, which reads one file. Each run
is the app's `train --epochs 1` with its defaults otherwise (sentiment:
`--max-length 200 --pretrain-epochs 0`: the classifier's own pipeline),
stopped `--seconds` after its first training step.
Measured from outside (Linux /proc): the peak resident memory of the process
until it is stopped, the time from launch to the first training step, and the
steady throughput (examples per second between the 20th logged batch and the
last), from SEQAPPS_STEP_LOG. Writes bench/results/scale_<app>.md.
"""

import argparse
import gzip
import os
import pathlib
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
APPS = {  # training file, what an example is, examples in it, extra train options, batch size
    "sentiment": ("imdb/train.jsonl.gz", "reviews", 25000, ["--max-length", "200", "--pretrain-epochs", "0"], 64),
    "ner": ("conll2003/train.txt", "sentences", 14041, ["--ensemble", "1"], 32),
    "translation": ("spa-eng/pairs.tsv", "pairs", 113964, [], 64),
    "textgen": ("names/train.txt", "names", 30033, [], 64),
}


def resident_bytes(pid):
    """Resident memory of a process, from /proc (0 once it is gone)."""
    try:
        lines = open(f"/proc/{pid}/status").read().splitlines()
    except OSError:  # the process has ended
        return 0
    return next((int(line.split()[1]) * 1024 for line in lines if line.startswith("VmRSS:")), 0)


def measure(app, train_file, pipeline, seconds, scratch, more_options=()):
    """{peak_gib, first_step_s, per_s} of one training run stopped `seconds` after its first step; `more_options`
    are given to train after the app's own."""
    _, _, _, extra, batch = APPS[app]
    step_log = scratch / f"steps-{pipeline}-{time.time_ns()}.txt"
    run_dir = scratch / f"run-{pipeline}-{time.time_ns()}"
    cmd = [sys.executable, "-m", f"apps.{app}", "train", "--run-dir", str(run_dir), "--train-file", train_file,
           "--pipeline", pipeline, "--epochs", "1", "--batch-size", str(batch), *extra, *more_options]
    env = {**os.environ, "SEQAPPS_STEP_LOG": str(step_log)}
    start = time.time()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak, first = 0, None
    while proc.poll() is None:
        peak = max(peak, resident_bytes(proc.pid))
        if first is None and step_log.exists() and step_log.read_text().strip():
            first = float(step_log.read_text().split()[1])
        if first is not None and time.time() - first > seconds:
            proc.terminate()
            break
        time.sleep(0.25)
    stderr = proc.communicate()[1]
    if first is None:
        raise RuntimeError(f"no training step: {' '.join(cmd)}\n{stderr[-2000:]}")
    steps = [tuple(map(float, line.split())) for line in step_log.read_text().splitlines()]
    steady = [s for s in steps if s[0] >= 20] or steps
    (b0, t0), (b1, t1) = steady[0], steady[-1]
    shutil.rmtree(run_dir, ignore_errors=True)
    return {"peak_gib": peak / 2**30, "first_step_s": first - start,
            "per_s": (b1 - b0) * batch / (t1 - t0) if t1 > t0 else float("nan")}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--app", default="sentiment", choices=sorted(APPS))
    parser.add_argument("--sizes", default="1,4,16,64")
    parser.add_argument("--memory-sizes", default="1,4")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--tag", help="write bench/results/scale_<app>_<tag>.md, keeping the main table")
    parser.add_argument("extra", nargs="*", help="more train options, after --")
    args = parser.parse_args()
    source, what, count, extra, batch = APPS[args.app]
    extra = [*extra, *args.extra]
    suffix = {"sentiment": ".jsonl", "ner": ".txt", "translation": ".tsv", "textgen": ".txt"}[args.app]
    scratch = pathlib.Path(tempfile.mkdtemp(prefix="seqapps-scale-"))
    rows = []
    try:
        path = os.path.join(args.data_dir, source)
        separator = b"\n\n" if args.app == "ner" else b"\n"
        with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as src:
            records = [r for r in src.read().split(separator) if r.strip()]

        def shard(i):
            # Copy i of the corpus, in an order of its own (seed i): IMDB's file is sorted by label, and a real
            # corpus's shards differ, so the streamed pipeline's bounded sample (the first examples of each
            # shard in turn) holds both labels and as many distinct examples as it would on real data.
            order = list(records)
            random.Random(i).shuffle(order)
            return separator.join(order) + separator

        for k in [int(k) for k in args.memory_sizes.split(",") if k]:
            joined = scratch / f"joined-{k}{suffix}"
            with open(joined, "wb") as dst:
                for i in range(k):
                    dst.write(shard(i))
            result = measure(args.app, str(joined), "memory", args.seconds, scratch, args.extra)
            rows.append(("memory", k, result))
            print(rows[-1], flush=True)
            joined.unlink()
        for k in [int(k) for k in args.sizes.split(",") if k]:
            shards = scratch / f"shards-{k}"
            shards.mkdir()
            for i in range(k):
                (shards / f"part-{i:03d}{suffix}").write_bytes(shard(i))
            result = measure(args.app, str(shards / f"part-*{suffix}"), "stream", args.seconds, scratch, args.extra)
            rows.append(("stream", k, result))
            print(rows[-1], flush=True)
            shutil.rmtree(shards)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    lines = [
        f"# {args.app} training as the corpus grows: memory, time to the first step, throughput\n",
        f"`python bench/scale.py --app {args.app} --sizes {args.sizes} --memory-sizes {args.memory_sizes} "
        f"--seconds {args.seconds:g}{' --tag ' + args.tag if args.tag else ''}"
        f"{' -- ' + ' '.join(args.extra) if args.extra else ''}` on {platform.machine()}, {os.cpu_count()} cores, "
        "one run at a time. "
        f"`{source}` ({count:,} {what}) repeated k times, each copy in an order of its own (so that shards differ, as "
        f"a real corpus's do); `train --epochs 1 {' '.join(extra)}`, the app's defaults "
        f"otherwise (batch {batch}), stopped {args.seconds:g} s after the first step. Peak: resident memory of the "
        f"process until then. Throughput: {what} per second after the 20th batch. The files fit in the page "
        "cache, so reading is mostly from memory, not the disk.\n",
        f"| pipeline | {what} | peak memory | time to first step | training throughput |",
        "| --- | --- | --- | --- | --- |",
    ]
    for pipeline, k, r in rows:
        lines.append(f"| {pipeline} | {count * k:,} ({k}x) | {r['peak_gib']:.2f} GiB | {r['first_step_s']:.0f} s | "
                     f"{r['per_s']:.0f} {what}/s |")
    out = ROOT / "bench" / "results" / (f"scale_{args.app}_{args.tag}.md" if args.tag else f"scale_{args.app}.md")
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
