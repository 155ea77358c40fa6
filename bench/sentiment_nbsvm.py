"""NBSVM (Wang & Manning 2012) on the sentiment app's own IMDB carve: the like-for-like linear baseline.

    python bench/sentiment_nbsvm.py [--data-dir ../shared/data] [--orders 2,3]

Reads imdb/train.jsonl.gz with the sentiment app's reader and carve (10%,
seed 0) and its text standardisation, so the validation reviews are the
ones the app reports on. Features: binarised word n-grams (all of them, no
vocabulary limit), scaled by the naive-Bayes log-count ratio; logistic
regression (liblinear) on top (NB-LR, the logistic variant of NBSVM).
Needs scikit-learn (`pip install scikit-learn`), a benchmark-only dependency.
Writes bench/results/sentiment_nbsvm.md.
"""

import argparse
import os
import pathlib
import platform
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def nb_lr_accuracy(train_texts, train_labels, valid_texts, valid_labels, order, c=1.0):
    """(validation accuracy, number of features) of NB-LR on word n-grams 1..order."""
    import numpy as np
    from scipy.sparse import diags
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    counter = CountVectorizer(ngram_range=(1, order), binary=True, token_pattern=r"\S+", lowercase=False)
    train, valid = counter.fit_transform(train_texts), counter.transform(valid_texts)
    y, valid_y = np.asarray(train_labels), np.asarray(valid_labels)
    positive, negative = 1 + train[y == 1].sum(0), 1 + train[y == 0].sum(0)
    ratio = diags(np.asarray(np.log((positive / positive.sum()) / (negative / negative.sum()))).ravel())
    classifier = LogisticRegression(C=c, dual=True, solver="liblinear", max_iter=1000).fit(train @ ratio, y)
    return float((classifier.predict(valid @ ratio) == valid_y).mean()), train.shape[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--orders", default="2,3")
    args = parser.parse_args()
    import tensorflow as tf

    from apps.sentiment.config import OPTIONS
    from apps.sentiment.data import load_training_data
    from datasets.text_classification import standardize

    options = {**OPTIONS.defaults, "train_file": os.path.join(args.data_dir, "imdb", "train.jsonl.gz")}
    (train, train_y), (valid, valid_y), _ = load_training_data(options)
    as_text = lambda texts: [t.decode() for t in standardize(tf.constant(texts)).numpy()]  # noqa: E731
    train, valid = as_text(train), as_text(valid)
    rows = []
    for order in map(int, args.orders.split(",")):
        start = time.time()
        accuracy, features = nb_lr_accuracy(train, train_y, valid, valid_y, order)
        rows.append(f"| NB-LR, word 1..{order}-grams | {features:,} | {100 * accuracy:.2f}% | "
                    f"{time.time() - start:.0f} s |")
        print(rows[-1], flush=True)
    out = ROOT / "bench" / "results" / "sentiment_nbsvm.md"
    out.write_text("\n".join([
        "# NBSVM's logistic variant on the sentiment app's IMDB carve (22,500 train / 2,500 validation, seed 0)\n",
        f"`python bench/sentiment_nbsvm.py --orders {args.orders}` on {platform.machine()}, {os.cpu_count()} cores. "
        "Binarised n-grams of the app's standardised text, naive-Bayes log-count ratios, liblinear C = 1. "
        "Wang & Manning (2012) report 91.22% (NBSVM-bigram) on the IMDB test split.\n",
        "| model | features | validation accuracy | time |", "| --- | --- | --- | --- |", *rows]) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
