"""The main job: train on O'Neill's 1850 tunes from music21's corpus, evaluate, generate.

    python bench/music_folk.py [-- extra train options]

Writes bench/results/music_folk.md and a generated tune in bench/results/.
"""

import json
import os
import pathlib
import platform
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main():
    extra = sys.argv[1:]
    run_dir = ROOT / "bench" / "runs" / "music-oneills1850"
    music = [sys.executable, "-m", "apps.music"]
    subprocess.run(music + ["train", "--run-dir", str(run_dir), *extra], cwd=ROOT, check=True)
    subprocess.run(music + ["evaluate", "--run-dir", str(run_dir)], cwd=ROOT, check=True)
    result = json.loads((run_dir / "evaluation.json").read_text())
    subprocess.run(music + ["generate", "--run-dir", str(run_dir), "--length", "200", "--seed", "1",
                            "--temperature", "0.9", "--output", str(ROOT / "bench" / "results" / "folk_seed1")],
                   cwd=ROOT, check=True)
    metrics = list(open(run_dir / "metrics.csv"))
    header = metrics[0].strip().split(",")
    minutes = float(metrics[-1].split(",")[header.index("elapsed_seconds")]) / 60
    text = "\n".join([
        "# Music: O'Neill's 1850 (music21 corpus), validation tunes (10%, split by tune)\n",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores; {len(metrics) - 1} epochs, {minutes:.1f} min; "
        f"options: defaults {' '.join(extra)}\n",
        "| validation tunes | events | NLL per event | perplexity | next-event accuracy |",
        "| --- | --- | --- | --- | --- |",
        f"| {result['tunes']} | {result['events']} | {result['nll_per_event']:.3f} | {result['perplexity']:.1f} | "
        f"{100 * result['accuracy']:.1f}% |",
        "\nSample: `folk_seed1.abc`, `folk_seed1.mid`, `folk_seed1.png` (seed 1, temperature 0.9, 200 events)."])
    (ROOT / "bench" / "results" / "music_folk.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
