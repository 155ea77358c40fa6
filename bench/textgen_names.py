"""Character-level language models of names: a counting bigram floor, then our cells at two sizes.

    python bench/textgen_names.py [--data-dir ../shared/data] [--configs rnn-small,gru-large,...] [--epochs N]
                                  [--rescore] [--tag NAME -- more train options]

Trains `python -m apps.textgen` on ../shared/data/names/train.txt (30,033
names, makemore's names.txt less its validation and test names) with
valid.txt (1,000) as validation, and writes bench/results/textgen_names.md:
validation NLL per character in nats (end mark included), parameters,
training time, the share of 1,000 samples (temperature 1) that are not
training names, how much of the names the model memorised (`memorisation`),
and 20 samples of each model. Reruns continue unfinished runs;
each run's figures are kept in bench/results/textgen_names.json, so a later
call (`--tag lr -- --reduce-lr-patience 1`, say) adds rows to the table;
`--configs "" --rescore` adds the memorisation columns to rows kept from before.
"""

import argparse
import collections
import json
import math
import os
import pathlib
import platform
import subprocess
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SIZES = {"small": ["--units", "128", "--layers", "1"], "large": ["--units", "256", "--layers", "2"]}


def bigram_nll(train, valid, alpha=0.1):
    """Validation NLL per character of add-alpha smoothed character bigrams, the end mark counted."""
    counts = collections.defaultdict(collections.Counter)
    alphabet = {c for name in train for c in name} | {"."}
    for name in train:
        for a, b in zip("." + name, name + "."):
            counts[a][b] += 1
    total, n = 0.0, 0
    for name in valid:
        for a, b in zip("." + name, name + "."):
            row = counts[a]
            total -= math.log((row[b] + alpha) / (sum(row.values()) + alpha * len(alphabet)))
            n += 1
    return total / n


def run(name, options, data, runs, epochs):
    """Train (or continue) one configuration; returns its row of the table and its samples."""
    run_dir = runs / name
    textgen = [sys.executable, "-m", "apps.textgen"]
    train = ["train", "--run-dir", str(run_dir), "--train-file", str(data / "train.txt"),
             "--valid-file", str(data / "valid.txt"), "--epochs", str(epochs), *options]
    print("$ python -m apps.textgen", " ".join(train), flush=True)
    subprocess.run(textgen + train, cwd=ROOT, check=True)
    subprocess.run(textgen + ["evaluate", "--run-dir", str(run_dir)], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    result = json.loads((run_dir / "evaluation.json").read_text())
    from apps.common.app import load_run
    from apps.textgen.cli import APP
    from apps.textgen.evaluate import sample_texts

    trained = load_run(APP, run_dir)
    seen = set((data / "train.txt").read_text().split())
    thousand = sample_texts(trained, 1000, seed=1)
    metrics = list(open(run_dir / "metrics.csv"))
    header = metrics[0].strip().split(",")
    minutes = float(metrics[-1].split(",")[header.index("elapsed_seconds")]) / 60
    row = (name, " ".join(options), trained.model.count_params(), result["nll_per_token"], len(metrics) - 1, minutes,
           sum(t not in seen for t in thousand) / len(thousand), *memorisation(trained, data))
    return row, sample_texts(trained, 20, seed=2)


def memorisation(trained, data):
    """(training NLL per character, 1 - mass on the training names, the same for a model that memorised nothing).

    Exact, not sampled: the mass the model puts on the training names is the
    share of samples (T = 1) that copy one; the training NLL (dropout off)
    against the validation NLL measures how much of it is memorised. A model
    that memorised nothing gives a training name what it gives a validation
    name, so its mass on the training names would be (training names /
    validation names) x its mass on the validation names.
    """
    from apps.textgen.evaluate import example_log_probabilities

    seen = sorted(set((data / "train.txt").read_text().split()))
    valid = (data / "valid.txt").read_text().split()
    train_log_p = example_log_probabilities(trained, seen).astype("float64")
    valid_mass = float(np.exp(example_log_probabilities(trained, valid).astype("float64")).sum())
    return (-float(train_log_p.sum()) / sum(len(name) + 1 for name in seen), 1 - float(np.exp(train_log_p).sum()),
            1 - valid_mass * len(seen) / len(valid))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--runs", default=str(ROOT / "bench" / "runs" / "textgen"))
    parser.add_argument("--configs", default="rnn-small,gru-small,lstm-small,rnn-large,gru-large,lstm-large")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--tag", default="", help="Suffix of the run names, for runs with extra options.")
    parser.add_argument("--rescore", action="store_true",
                        help="add the memorisation columns to kept rows whose runs are still in --runs")
    parser.add_argument("extra", nargs="*", help="more train options, after --")
    args = parser.parse_args()
    import apps  # noqa: F401  quiet TensorFlow, our `datasets`

    data, runs = pathlib.Path(args.data_dir) / "names", pathlib.Path(args.runs)
    train, valid = (data / "train.txt").read_text().split(), (data / "valid.txt").read_text().split()
    store = ROOT / "bench" / "results" / "textgen_names.json"
    kept = json.loads(store.read_text()) if store.exists() else {}
    for config in filter(None, args.configs.split(",")):  # --configs "": redraw the table only
        cell, size = config.split("-")
        name = f"{config}-{args.tag}" if args.tag else config
        row, texts = run(name, ["--cell", cell, *SIZES[size], *args.extra], data, runs, args.epochs)
        kept[name] = {"row": row, "samples": texts, "epochs_limit": args.epochs}
        store.write_text(json.dumps(kept, indent=1, ensure_ascii=False) + "\n")
        print(row, flush=True)
    if args.rescore:
        from apps.common.app import load_run
        from apps.textgen.cli import APP

        for name, entry in kept.items():
            if len(entry["row"]) == 7 and (runs / name / "model.keras").exists():
                entry["row"] = [*entry["row"], *memorisation(load_run(APP, runs / name), data)]
        store.write_text(json.dumps(kept, indent=1, ensure_ascii=False) + "\n")
    rows = [entry["row"] for entry in kept.values()]
    samples = {name: entry["samples"] for name, entry in kept.items()}
    lines = [
        f"# Character-level language models of names: ../shared/data/names ({len(train):,} training names, "
        f"{len(valid):,} validation names)",
        "",
        f"`python bench/textgen_names.py --epochs 30` (the first six rows; the options column gives the rest) on "
        f"{platform.machine()}, {os.cpu_count()} cores. NLL per character in nats, the end-of-name mark included; "
        "other options: "
        "apps.textgen's defaults (embedding 64, dropout 0.2, Adam 2e-3, gradient norm clipped to 1, "
        "early stopping on the validation loss, patience 3). Selected on the same validation split it reports.",
        "",
        "| model | options | parameters | validation NLL/char | bits/char | epochs | time | new names of 1,000 "
        "samples (T = 1) | training NLL/char | new names expected: 1 - mass on the training names | the same had it "
        "memorised nothing: 1 - (training/validation names) x mass on the validation names |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| counting bigram (add-0.1) | | | {bigram_nll(train, valid):.3f} | "
        f"{bigram_nll(train, valid) / math.log(2):.3f} | | | | | | |",
    ]
    for name, options, params, nll, epochs, minutes, new, *exact in rows:
        exact = [f"{exact[0]:.3f}", f"{100 * exact[1]:.1f}%", f"{100 * exact[2]:.1f}%"] if exact else ["", "", ""]
        lines.append(f"| {name} | `{options}` | {params:,} | **{nll:.3f}** | {nll / math.log(2):.3f} | {epochs} | "
                     f"{minutes:.1f} min | {100 * new:.1f}% | {' | '.join(exact)} |")
    lines += ["", "makemore's default Transformer (about 200k parameters) reports a test NLL of about 1.92 on its own "
              "split of the same names: a reference, not a like-for-like figure.", "", "## 20 samples of each (seed 2)"]
    for config, texts in samples.items():
        lines += ["", f"{config}: " + ", ".join(texts)]
    out = ROOT / "bench" / "results" / "textgen_names.md"
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
