"""Where the translation app's pairs come from: generated dates, TSV files or tfds."""

import random

from datasets.dates import date_pairs
from datasets.errors import DataError
from datasets.pairs import read_pairs
from datasets.tfds_loader import load_tfds

VALID_DATES = 2000


def level_of(options):
    return options["level"] or ("char" if _is_dates(options) else "word")


def _is_dates(options):
    return not options["train_file"] and options["dataset"] == "dates"


def _tfds_pairs(name, split):
    return [(s.decode("utf-8"), t.decode("utf-8")) for s, t in load_tfds(name, split).as_numpy_iterator()]


def load_training_data(options):
    """(train pairs, validation pairs)."""
    if _is_dates(options):
        train = date_pairs(options["train_size"], options["seed"])
        return train, date_pairs(VALID_DATES, options["seed"] + 1, exclude={s for s, _ in train})
    if options["train_file"]:
        pairs = read_pairs(options["train_file"], options["source_column"], options["target_column"])
        if options["valid_file"]:
            return pairs, read_pairs(options["valid_file"], options["source_column"], options["target_column"])
    else:
        import tensorflow_datasets as tfds

        pairs = _tfds_pairs(options["dataset"], "train")
        if "validation" in tfds.builder(options["dataset"]).info.splits:
            return pairs, _tfds_pairs(options["dataset"], "validation")
    order = list(range(len(pairs)))
    random.Random(options["seed"]).shuffle(order)
    n_valid = max(1, int(round(len(pairs) * options["valid_fraction"])))
    if n_valid >= len(pairs):
        raise DataError(options["train_file"], f"too few pairs ({len(pairs)}) to carve a validation set")
    return [pairs[i] for i in order[n_valid:]], [pairs[i] for i in order[:n_valid]]


def load_evaluation_data(options, test_file=None, dataset=None, size=10000, seed=12345):
    """Pairs to evaluate on. Generated dates are new ones, none of them seen in training or validation."""
    if test_file:
        return read_pairs(test_file, options["source_column"], options["target_column"])
    if (dataset or options["dataset"]) == "dates":
        train, valid = load_training_data({**options, "train_file": None, "dataset": "dates"})
        return date_pairs(size, seed, exclude={s for s, _ in train + valid})
    return _tfds_pairs(dataset or options["dataset"], "test")
