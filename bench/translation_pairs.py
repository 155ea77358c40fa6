"""Sentence-pair translation (Spanish -> English by default): BLEU and chrF on the validation split.

    python bench/translation_pairs.py [--name NAME] [--pairs FILE] [--source-column 1 --target-column 0]
                                      [--skip-training] [-- extra train options]

Trains into bench/runs/<NAME> (run again to continue), then evaluates greedy and
beam-4 decoding on the validation pairs carved from the file (5%, seed 0).
Writes bench/results/translation_<NAME>.md.
"""

import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", default="spa-eng")
    parser.add_argument("--pairs", default=str(ROOT.parent / "shared" / "data" / "spa-eng" / "pairs.tsv"))
    parser.add_argument("--source-column", default="1")
    parser.add_argument("--target-column", default="0")
    parser.add_argument("--skip-training", action="store_true", help="Only evaluate the finished run.")
    parser.add_argument("extra", nargs="*", help="Options for `train`, after --.")
    args = parser.parse_args()
    run_dir = ROOT / "bench" / "runs" / args.name
    python = [sys.executable, "-m", "apps.translation"]
    if not args.skip_training:
        subprocess.run(python + ["train", "--run-dir", str(run_dir), "--train-file", args.pairs, "--source-column",
                                 args.source_column, "--target-column", args.target_column, *args.extra],
                       cwd=ROOT, check=True)
    metrics = list(open(run_dir / "metrics.csv"))
    minutes = float(metrics[-1].split(",")[1]) / 60 if len(metrics) > 1 else 0.0
    options = json.loads((run_dir / "config.json").read_text())["options"]
    rows, examples = [], []
    for beam in (1, 4):
        subprocess.run(python + ["evaluate", "--run-dir", str(run_dir), "--validation", "--beam-size", str(beam)],
                       cwd=ROOT, check=True)
        result = json.loads((run_dir / "evaluation.json").read_text())
        rows.append(f"| {'greedy' if beam == 1 else f'beam {beam}'} | {result['pairs']} | {result['bleu']:.2f} | "
                    f"{result['chrf']:.2f} | {100 * result['exact_match']:.2f}% |")
        examples = result["examples"]
    shown = ("cell", "units", "embedding_dim", "output_dim", "attention", "dropout", "max_tokens", "batch_size",
             "learning_rate")
    text = "\n".join([
        f"# Translation: {pathlib.Path(args.pairs).name}, column {args.source_column} -> {args.target_column}\n",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, CPU; training {len(metrics) - 1} epochs, "
        f"{minutes:.1f} min (best epoch by validation loss kept).",
        "Options: " + ", ".join(f"{k} {options[k]}" for k in shown) + ".",
        f"Validation: {options['valid_fraction']:.0%} of the pairs carved with seed {options['seed']}, "
        + ("by source sentence (no validation source is a training source); "
           if options.get("valid_split", "random") == "by-source" else
           "pair by pair (a source with several translations can be on both sides); ")
        + "sacrebleu defaults (13a tokenisation, case-sensitive).\n",
        "| decoding | pairs | BLEU | chrF | exact match |", "| --- | --- | --- | --- | --- |", *rows, "",
        "Beam-4 translations of the first validation pairs:\n",
        "| source | reference | translation |", "| --- | --- | --- |",
        *[f"| {e['source']} | {e['reference']} | {e['translation']} |" for e in examples],
    ])
    (ROOT / "bench" / "results" / f"translation_{args.name}.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
