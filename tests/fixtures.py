"""Tiny data the tests make: no download, nothing from ../shared."""

import gzip
import json
import random

POSITIVE = ["great wonderful film", "loved it , superb acting", "a brilliant masterpiece", "fantastic moving story",
            "excellent fun"]
NEGATIVE = ["terrible boring film", "hated it , awful acting", "a dull disaster", "worst movie ever , bad",
            "poor and tedious"]


def sentiment_rows(n, seed=0):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = i % 2
        text = rng.choice(POSITIVE if label else NEGATIVE) + " " + rng.choice(["really", "truly", "so", ""])
        rows.append({"text": text, "label": label})
    return rows


def write_jsonl(path, rows, compress=False):
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    (gzip.open if compress else open)(path, "wb").write(data)
    return str(path)
