"""The main job as a newcomer runs it: train on O'Neill's 1850 tunes, evaluate, generate, each step timed.

    python bench/music_folk.py [--keep-cache] [--tunes 100] [-- extra train options]

Runs the README's three commands as subprocesses with the defaults, in a
fresh run directory and (unless --keep-cache) with empty tune caches, ours
and music21's, so the time includes parsing the corpus as on a new machine.
Then generates `--tunes` tunes (seeds 1..N, temperature 1.0) from the trained
model and measures how much they look like tunes (apps.music.evaluate.tune_shapes),
beside the same measures of the validation tunes. Writes bench/results/music_folk.md
and the generated tune bench/results/folk_seed1.* (its .wav stays out of git).
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
    parser.add_argument("--tunes", type=int, default=100, help="Tunes generated for the shape measures.")
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
        ("generate", [*music, "generate", "--run-dir", str(run_dir), "--seed", "1", "--output", str(sample)]),
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
        "| validation tunes | tokens scored | of them unseen in training ([UNK]) | NLL per token | perplexity | "
        "next-token accuracy |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| {result['tunes']} | {result['events']} | {result.get('unseen_events', '?')} | "
        f"{result['nll_per_event']:.3f} | {result['perplexity']:.1f} | {100 * result['accuracy']:.1f}% |",
        "",
        "Sample: `folk_seed1.abc`, `.mid`, `.svg` (engraved), `.png` (piano roll); seed 1, temperature 1.0 "
        "(the audio, `.wav`, is written too but kept out of git).",
    ])
    text += "\n\n" + shapes_table(run_dir, args.tunes)
    (ROOT / "bench" / "results" / "music_folk.md").write_text(text + "\n")
    print(text)


def shapes_table(run_dir, count):
    """The shape measures of `count` generated tunes and of the validation tunes, as a Markdown section."""
    sys.path.insert(0, str(ROOT))
    import apps  # noqa: F401  quiet TensorFlow
    from apps.common.app import load_run
    from apps.music.cli import APP
    from apps.music.data import END, read_tunes, split_tunes
    from apps.music.evaluate import tune_shapes
    from apps.music.generate import generate_tune
    from datasets.tunes import to_abc

    trained = load_run(APP, run_dir)
    measured, seconds = {}, {}
    for free in (False, True):
        start = time.perf_counter()
        generated = [generate_tune(trained, 400, seed=seed, title=f"seed {seed}", free_bars=free)
                     for seed in range(1, count + 1)]
        seconds[free] = time.perf_counter() - start
        measured[free] = tune_shapes([tokens for _, tokens in generated], [abc for abc, _ in generated])
    options = trained.options
    _, valid = split_tunes(read_tunes(options, echo=lambda *a, **k: None), options.valid_fraction, options.seed)
    corpus_tokens = [[t for t in tokens if t != END] for _, tokens in valid]
    corpus = tune_shapes(corpus_tokens, [to_abc(t) for t in corpus_tokens])
    rows = [("music21 reads the ABC without error", "parsed", "100%"),
            ("bars whose notes fill the meter (pickups and part ends may be short)", "whole_bars", ">= 95%"),
            ("notes in the scale of the written mode", "in_scale", "report"),
            ("two parts of 8 bars", "two_parts", "report"),
            ("starts with a meter and a key", "meter_and_key", "")]
    ours, alone = measured[False], measured[True]
    return "\n".join([
        f"## Do the generated tunes look like tunes? {count} tunes, seeds 1-{count}, temperature 1.0, "
        f"at most 400 tokens ({seconds[False]:.0f} s / {seconds[True]:.0f} s to generate)",
        "",
        "`generate` samples with a whole-bars grammar by default (a note only where it fits its bar; short bars "
        "only as pickups and part ends; a meter and a mode first); `--free-bars` samples from the model alone.",
        "",
        f"| measure | generated (default) | generated, model alone (`--free-bars`) | "
        f"validation tunes ({corpus['tunes']}, the reference) | target |",
        "| --- | --- | --- | --- | --- |",
        *[f"| {label} | {100 * ours[key]:.1f}% | {100 * alone[key]:.1f}% | {100 * corpus[key]:.1f}% | {target} |"
          for label, key, target in rows],
        "",
        f"Bars counted: {ours['bars']} / {alone['bars']} generated, {corpus['bars']} in the validation tunes. "
        "Validation NLL above is per token of this representation (notes, bar lines, meter, mode, end), not "
        "comparable with the old per-event figure.",
    ])


if __name__ == "__main__":
    main()
