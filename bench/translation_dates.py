"""Dates -> ISO 8601: exact match on 10,000 generated dates not seen in training.

    python bench/translation_dates.py [-- extra train options]

Writes bench/results/translation_dates.md (greedy and beam search).
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
    run_dir = ROOT / "bench" / "runs" / "translation-dates"
    python = [sys.executable, "-m", "apps.translation"]
    subprocess.run(python + ["train", "--run-dir", str(run_dir), *extra], cwd=ROOT, check=True)
    metrics = list(open(run_dir / "metrics.csv"))
    minutes = float(metrics[-1].split(",")[1]) / 60 if len(metrics) > 1 else 0.0
    rows = []
    for beam in (1, 4):
        subprocess.run(python + ["evaluate", "--run-dir", str(run_dir), "--size", "10000", "--beam-size", str(beam)],
                       cwd=ROOT, check=True)
        result = json.loads((run_dir / "evaluation.json").read_text())
        rows.append(f"| {'greedy' if beam == 1 else f'beam {beam}'} | {result['pairs']} | "
                    f"{100 * result['exact_match']:.2f}% | {result['bleu']:.2f} | {result['chrf']:.2f} |")
    text = "\n".join([
        "# Translation: human-readable dates -> ISO 8601\n",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores; training {len(metrics) - 1} epochs, "
        f"{minutes:.1f} min; options: defaults {' '.join(extra)}\n",
        "| decoding | new dates | exact match | BLEU | chrF |", "| --- | --- | --- | --- | --- |", *rows])
    (ROOT / "bench" / "results" / "translation_dates.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
