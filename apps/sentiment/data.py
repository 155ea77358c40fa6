"""Where the sentiment app's examples come from: local files or tensorflow-datasets."""

import random

from datasets.errors import DataError
from datasets.files import parse_column
from datasets.text_classification import (
    encode_labels, label_vocabulary, load_tfds_texts, read_labelled_texts,
)


def carve(texts, labels, fraction, seed):
    """Split off a validation set with a fixed seed: (train, valid) pairs of lists."""
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    n_valid = max(1, int(round(len(order) * fraction)))
    if n_valid >= len(order):
        raise DataError("--valid-fraction", f"leaves no training examples out of {len(order)}")
    pick = lambda idx: ([texts[i] for i in idx], [labels[i] for i in idx])  # noqa: E731
    return pick(order[n_valid:]), pick(order[:n_valid])


def _read(path, options):
    return read_labelled_texts(path, parse_column(options["text_column"]), parse_column(options["label_column"]))


def load_training_data(options):
    """((train texts, labels), (valid texts, labels), label vocabulary); labels as floats 0/1."""
    if options["train_file"]:
        texts, raw, lines = _read(options["train_file"], options)
        vocabulary = label_vocabulary(raw, options["train_file"])
        labels = encode_labels(raw, vocabulary, options["train_file"], lines)
        if options["valid_file"]:
            v_texts, v_raw, v_lines = _read(options["valid_file"], options)
            valid = (v_texts, encode_labels(v_raw, vocabulary, options["valid_file"], v_lines))
            train = (texts, labels)
        else:
            train, valid = carve(texts, labels, options["valid_fraction"], options["seed"])
        return train, valid, vocabulary
    texts, raw = load_tfds_texts(options["dataset"], "train")
    vocabulary = label_vocabulary(raw, f"tfds:{options['dataset']}")
    labels = encode_labels(raw, vocabulary, options["dataset"], range(1, len(raw) + 1))
    train, valid = carve(texts, labels, options["valid_fraction"], options["seed"])
    return train, valid, vocabulary


def load_evaluation_data(options, vocabulary, test_file=None, dataset=None, split="test"):
    """(texts, labels) to evaluate on, labelled with the training run's vocabulary."""
    if test_file:
        texts, raw, lines = _read(test_file, options)
        return texts, encode_labels(raw, vocabulary, test_file, lines)
    texts, raw = load_tfds_texts(dataset or options["dataset"], split)
    return texts, encode_labels(raw, vocabulary, f"tfds:{dataset}", range(1, len(raw) + 1))
