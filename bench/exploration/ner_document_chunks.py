"""Exploration (issue 20): does a NER tagger gain from the sentences around each sentence of its document?

    python bench/exploration/ner_document_chunks.py [--max-tokens 64] [-- extra train options]

A probe that needs no change to the app: rewrites CoNLL-2003's eng.train and eng.testa
(../shared/data/conll2003/{train,valid}.txt) so that consecutive sentences of one document (between -DOCSTART-
lines) form one sequence of at most MAX tokens (a longer sentence stays alone), then trains the NER app on them,
one tagger, `--batch-size 8` (about as many tokens per batch as 32 sentences), into
bench/runs/ner-conll2003-chunks<MAX>. Each sentence's tags are made IOB2 before they are joined, so no two gold
entities merge across a sentence end: the chunked eng.testa holds the same gold entities as the sentence file, and
the F1 is comparable with the sentence-level runs (a predicted entity that crosses a sentence end is an error).
Prints the best validation F1; the per-epoch curve is the run's metrics.csv.
"""

import argparse
import csv
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from datasets.conll import DOCSTART, to_iob2  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "conll2003"


def documents(path):
    """The documents of a CoNLL file: lists of sentences, each a list of (token, tag)."""
    docs, sentence = [[]], []
    for line in open(path, encoding="utf-8"):
        fields = line.split()
        if not fields or fields[0] == DOCSTART:
            if sentence:
                docs[-1].append(sentence)
                sentence = []
            if fields and docs[-1]:
                docs.append([])
            continue
        sentence.append((fields[0], fields[-1]))
    if sentence:
        docs[-1].append(sentence)
    return [doc for doc in docs if doc]


def write_chunks(source, target, max_tokens):
    """Joins each document's consecutive sentences into sequences of at most max_tokens; returns their count."""
    count = 0
    with open(target, "w", encoding="utf-8") as out:
        for doc in documents(source):
            chunk = []
            for sentence in doc:
                if chunk and len(chunk) + len(sentence) > max_tokens:
                    out.write("".join(f"{token} {tag}\n" for token, tag in chunk) + "\n")
                    count, chunk = count + 1, []
                chunk += zip([token for token, _ in sentence], to_iob2([tag for _, tag in sentence]))
            if chunk:
                out.write("".join(f"{token} {tag}\n" for token, tag in chunk) + "\n")
                count += 1
    return count


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-tokens", type=int, default=64)
    args, extra = parser.parse_known_args()
    extra = [arg for arg in extra if arg != "--"]
    data_dir = ROOT / "bench" / "runs" / f"conll2003-chunks{args.max_tokens}"
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in ("train", "valid"):
        count = write_chunks(DATA / f"{name}.txt", data_dir / f"{name}.txt", args.max_tokens)
        print(f"{name}: {count} sequences of at most {args.max_tokens} tokens", flush=True)
    run_dir = ROOT / "bench" / "runs" / f"ner-conll2003-chunks{args.max_tokens}"
    subprocess.run([sys.executable, "-m", "apps.ner", "train", "--run-dir", str(run_dir),
                    "--train-file", str(data_dir / "train.txt"), "--valid-file", str(data_dir / "valid.txt"),
                    "--ensemble", "1", "--batch-size", "8", *extra], cwd=ROOT, check=True)
    rows = list(csv.DictReader(open(run_dir / "metrics.csv")))
    best = max(rows, key=lambda row: float(row["val_f1"]))
    print(f"best validation entity F1 {100 * float(best['val_f1']):.2f} at epoch {int(best['epoch']) + 1} of "
          f"{len(rows)}, {float(rows[-1]['elapsed_seconds']) / 60:.1f} min", flush=True)


if __name__ == "__main__":
    main()
