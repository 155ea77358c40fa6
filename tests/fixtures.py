"""Tiny data the tests make: no download, nothing from ../shared."""

import gzip
import json
import random

# Options of the tiny models the tests train.
SENTIMENT_SMALL = ["--pretrain-epochs", "0", "--units", "8", "--embedding-dim", "8", "--max-tokens", "200",
                   "--batch-size", "16", "--seed", "1", "--ngram-buckets", "1024"]
NER_SMALL = ["--ensemble", "1", "--units", "16", "--word-dim", "16", "--batch-size", "16", "--learning-rate", "0.01",
             "--patience", "20", "--seed", "0"]

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


PEOPLE = ["Harry Potter", "Hermione Granger", "Ron", "Albus Dumbledore", "Minerva"]
PLACES = ["London", "Paris", "New York", "Hogsmeade", "Berlin"]
ORGS = ["Gringotts", "Reuters", "the Ministry"]


def ner_sentences(n, seed=0):
    """Made-up tagged sentences in IOB1 (entities start with I-), like CoNLL-2003."""
    rng = random.Random(seed)
    sentences = []
    for _ in range(n):
        person, place, org = rng.choice(PEOPLE), rng.choice(PLACES), rng.choice(ORGS)
        pattern = rng.choice([
            [(person, "PER"), ("lives in", None), (place, "LOC"), (".", None)],
            [(person, "PER"), ("works for", None), (org, "ORG"), ("in", None), (place, "LOC")],
            [("In", None), (place, "LOC"), (",", None), (person, "PER"), ("met", None), (org, "ORG")],
        ])
        tokens, tags = [], []
        for words, kind in pattern:
            for word in words.split():
                tokens.append(word)
                tags.append("O" if kind is None or word == "the" else f"I-{kind}")
        sentences.append((tokens, tags))
    return sentences


def write_conll(path, sentences, docstart=True):
    lines = ["-DOCSTART- -X- O O", ""] if docstart else []
    for tokens, tags in sentences:
        lines += [f"{t} NNP I-NP {g}" for t, g in zip(tokens, tags)] + [""]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def abc_tune(seed, title):
    rng = random.Random(seed)
    notes = " ".join(rng.choice(["C2", "D2", "E4", "G2", "A2", "c4", "z2", "B,2", "^F2", "e2"]) for _ in range(32))
    return f"X:{seed}\nT:{title}\nM:4/4\nL:1/16\nK:C\n{notes}\n"


def user_environment():
    """os.environ as a user's shell has it: no setting that quiets TensorFlow, no cluster.

    Subprocess tests of what a command prints run in it, so that they see what a user sees.
    """
    import os

    quieting = ("TF_CPP_MIN_LOG_LEVEL", "TF_CPP_MAX_VLOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS", "SEQAPPS_TF_LOGS",
                "TF_CONFIG")
    return {k: v for k, v in os.environ.items() if k not in quieting}


SYLLABLES = ["ma", "ri", "an", "el", "jo", "ka", "li", "na", "to", "be", "sa", "ro", "de", "lu", "ne"]


def made_up_names(n, seed=0):
    """Names of 2-4 syllables, capitalised: a tiny corpus for the language model."""
    rng = random.Random(seed)
    return ["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize() for _ in range(n)]


def write_lines(path, lines):
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return str(path)
