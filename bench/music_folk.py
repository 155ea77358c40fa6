"""The main job as a newcomer runs it: train on O'Neill's 1850 tunes, evaluate, generate, each step timed.

    python bench/music_folk.py [--keep-cache] [-- extra train options]

Runs the README's three commands as subprocesses with the defaults, in a
fresh run directory and (unless --keep-cache) with empty tune caches, ours
and music21's, so the time includes parsing the corpus as on a new machine. Writes
bench/results/music_folk.md and the generated tune bench/results/folk_seed1.*.
"""

import argparse
import json
import os
import pathlib
import platform
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent


def timed(command, env):
    """(seconds, stdout) of a command run from the project root; its stdout is also printed."""
    print("$", " ".join(command), flush=True)
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True)
    print(proc.stdout, flush=True)
    return time.perf_counter() - start, proc.stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep-cache", action="store_true", help="Reuse parsed tunes (default: parse afresh).")
    parser.add_argument("extra", nargs="*", help="more train options, after --")
    args = parser.parse_args()
    run_dir = ROOT / "bench" / "runs" / "music-oneills1850"
    shutil.rmtree(run_dir, ignore_errors=True)
    env = dict(os.environ)
    if not args.keep_cache:
        env["SEQAPPS_CACHE"] = tempfile.mkdtemp(prefix="seqapps-music-cache-")
        # music21 keeps its own parse cache in TMPDIR/music21: a fresh TMPDIR empties it too.
        env["TMPDIR"] = tempfile.mkdtemp(prefix="seqapps-music-tmp-")
    music = ["python", "-m", "apps.music"]
    sample = ROOT / "bench" / "results" / "folk_seed1"
    steps = [
        ("train", [*music, "train", "--run-dir", str(run_dir), *args.extra]),
        ("evaluate", [*music, "evaluate", "--run-dir", str(run_dir)]),
        ("generate", [*music, "generate", "--run-dir", str(run_dir), "--length", "200", "--seed", "1",
                      "--output", str(sample)]),
    ]
    times, outputs = {}, {}
    for name, command in steps:
        times[name], outputs[name] = timed([sys.executable, *command[1:]], env)
    result = json.loads((run_dir / "evaluation.json").read_text())
    metrics = list(open(run_dir / "metrics.csv"))
    header = metrics[0].strip().split(",")
    training = float(metrics[-1].split(",")[header.index("elapsed_seconds")])
    data_line = next(line for line in outputs["train"].splitlines() if "training tunes" in line)
    shown = {name: " ".join(c if not c.startswith(str(ROOT)) else os.path.relpath(c, ROOT) for c in command)
             for name, command in steps}
    caches = "tune caches kept" if args.keep_cache else "empty caches, ours and music21's (parsed as on a new machine)"
    invocation = " ".join(["python bench/music_folk.py", *["--keep-cache"] * args.keep_cache,
                           *(["--", *args.extra] if args.extra else [])])
    text = "\n".join([
        "# The main job: O'Neill's 1850 (music21's corpus), validation tunes (10%, split by tune)",
        "",
        f"`{invocation}` on {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{caches}; "
        f"train options: defaults {' '.join(args.extra)}",
        "",
        f"Data: {data_line}",
        "",
        "| step | command | wall time |",
        "| --- | --- | --- |",
        *[f"| {name} | `{shown[name]}` | {times[name]:.0f} s |" for name, _ in steps],
        f"| all three | | **{sum(times.values()) / 60:.1f} min** |",
        "",
        f"Training: {len(metrics) - 1} epochs, {training:.0f} s of the train step (the rest: start-up, parsing, "
        "windows, saving).",
        "",
        "| validation tunes | events scored | of them unseen in training ([UNK]) | NLL per event | perplexity | "
        "next-event accuracy |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| {result['tunes']} | {result['events']} | {result.get('unseen_events', '?')} | "
        f"{result['nll_per_event']:.3f} | {result['perplexity']:.1f} | {100 * result['accuracy']:.1f}% |",
        "",
        "Sample: `folk_seed1.abc`, `folk_seed1.mid`, `folk_seed1.png` (seed 1, temperature 1.0, 200 events).",
    ])
    (ROOT / "bench" / "results" / "music_folk.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
