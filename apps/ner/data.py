"""Where the NER app's sentences come from: CoNLL files or tensorflow-datasets."""

import random

from datasets.conll import is_iob2, read_conll, to_iob2
from datasets.errors import DataError
from datasets.tfds_loader import load_tfds


def _from_tfds(name, split):
    import tensorflow_datasets as tfds

    ds = load_tfds(name, split, as_supervised=False)
    names = tfds.builder(name).info.features["ner"].names
    sentences = []
    for i, example in enumerate(ds.as_numpy_iterator(), start=1):
        tokens = [t.decode("utf-8") for t in example["tokens"]]
        sentences.append((tokens, [names[j] for j in example["ner"]], i))
    return sentences


def _read(path, options):
    return read_conll(path, options["tag_column"], options["token_prefix"])


def as_iob2(sentences):
    """(sentences with IOB2 tags, the scheme they came in)."""
    scheme = "IOB2" if is_iob2(sentences) else "IOB1"
    return [(tokens, to_iob2(tags), line) for tokens, tags, line in sentences], scheme


def load_training_data(options):
    """(train sentences, valid sentences, source scheme); tags converted to IOB2."""
    if options["train_file"]:
        train = _read(options["train_file"], options)
        valid = _read(options["valid_file"], options) if options["valid_file"] else None
    else:
        train = _from_tfds(options["dataset"], "train")
        valid = _from_tfds(options["dataset"], "validation")
    if valid is None:
        order = list(range(len(train)))
        random.Random(options["seed"]).shuffle(order)
        n_valid = max(1, int(round(len(order) * options["valid_fraction"])))
        if n_valid >= len(order):
            raise DataError(options["train_file"], f"too few sentences ({len(order)}) to carve a validation set")
        valid, train = [train[i] for i in order[:n_valid]], [train[i] for i in order[n_valid:]]
    train, scheme = as_iob2(train)
    valid, _ = as_iob2(valid)
    return train, valid, scheme


def load_evaluation_data(options, test_file=None, dataset=None, split="test"):
    sentences = _read(test_file, options) if test_file else _from_tfds(dataset or options["dataset"], split)
    return as_iob2(sentences)[0]


def check_tags(sentences, tag_index, path):
    for tokens, tags, line in sentences:
        for offset, tag in enumerate(tags):
            if tag not in tag_index:
                raise DataError(path, f"entity type of {tag!r} never occurs in the training data",
                                line + offset)
