"""Where the sentiment app's examples come from: local files or tensorflow-datasets."""

import dataclasses
import typing

from apps.common.app import TrainingData
from apps.common.errors import UserError
from datasets.files import parse_column
from datasets.splits import carve
from datasets.text_classification import (
    encode_labels, label_vocabulary, load_tfds_texts, read_labelled_texts,
)


def _read(path, options):
    return read_labelled_texts(path, parse_column(options["text_column"]), parse_column(options["label_column"]))


def _carve(texts, labels, options, source):
    train, valid = carve(list(zip(texts, labels)), options["valid_fraction"], options["seed"], source, "texts")
    return tuple(map(list, zip(*train))), tuple(map(list, zip(*valid)))


def load_training_data(options):
    """((train texts, labels), (valid texts, labels), label vocabulary); labels as floats 0/1."""
    if options["train_file"]:
        texts, raw, lines = _read(options["train_file"], options)
        vocabulary = label_vocabulary(raw, options["train_file"])
        labels = encode_labels(raw, vocabulary, options["train_file"], lines)
        if options["valid_file"]:
            v_texts, v_raw, v_lines = _read(options["valid_file"], options)
            return (texts, labels), (v_texts, encode_labels(v_raw, vocabulary, options["valid_file"], v_lines)), \
                vocabulary
        return (*_carve(texts, labels, options, options["train_file"]), vocabulary)
    source = f"tfds:{options['dataset']}"
    texts, raw = load_tfds_texts(options["dataset"], "train")
    vocabulary = label_vocabulary(raw, source)
    labels = encode_labels(raw, vocabulary, source, range(1, len(raw) + 1))
    return (*_carve(texts, labels, options, source), vocabulary)


def read_training_data(options):
    """TrainingData of ((texts, labels), (texts, labels)), or of two StreamedTexts with --pipeline stream;
    the run records the label vocabulary."""
    if options.get("pipeline") == "stream":
        train, valid, labels = _stream_sources(options)
        return TrainingData(train, valid, {"labels": labels})
    train, valid, labels = load_training_data(options)
    return TrainingData(train, valid, {"labels": labels})


def load_evaluation_data(options, vocabulary, test_file=None, dataset=None, split="test"):
    """(texts, labels) to evaluate on, labelled with the training run's vocabulary."""
    if test_file:
        texts, raw, lines = _read(test_file, options)
        return texts, encode_labels(raw, vocabulary, test_file, lines)
    source = f"tfds:{dataset or options['dataset']}"
    texts, raw = load_tfds_texts(dataset or options["dataset"], split)
    return texts, encode_labels(raw, vocabulary, source, range(1, len(raw) + 1))


def evaluation_source(options, test_file=None, dataset=None, split="test"):
    """How evaluation.json names its data."""
    return test_file or f"tfds:{dataset or options['dataset']}/{split}"


def build_vocabularies(options, data):
    """{"tokens": the vocabulary of the training texts, most frequent first, padding and OOV first}."""
    from datasets.text_classification import adapt_vectorizer, make_vectorizer, sample_labelled_texts

    if isinstance(data.train, StreamedTexts):
        columns = parse_column(options["text_column"]), parse_column(options["label_column"])
        texts, _ = sample_labelled_texts(data.train.files, *columns, options.vocabulary_sample, data.train.keep)
    else:
        texts = data.train[0]
    return {"tokens": adapt_vectorizer(make_vectorizer(options.max_tokens), texts).get_vocabulary()}


def make_encoders(options, vocabularies):
    """The TextVectorization of the run's vocabulary (texts -> ragged token ids)."""
    from datasets.text_classification import make_vectorizer

    return make_vectorizer(options.max_tokens, vocabularies["tokens"])


def make_datasets(options, vectorizer, data):
    """(train, validation, summary): bucketed batches of (ids [B, T], labels [B])."""
    from datasets.text_classification import make_dataset

    if isinstance(data.train, StreamedTexts):
        return _streaming_datasets(options, vectorizer, data)
    batches = dict(vectorizer=vectorizer, batch_size=options.batch_size, max_length=options.max_length,
                   seed=options.seed)
    (train_texts, train_labels), (valid_texts, valid_labels) = data.train, data.valid
    summary = (f"{len(train_texts)} training and {len(valid_texts)} validation texts; "
               f"vocabulary {vectorizer.vocabulary_size()}; labels {options.labels}")
    return (make_dataset(train_texts, train_labels, shuffle=True, **batches),
            make_dataset(valid_texts, valid_labels, shuffle=False, **batches), summary)


# --pipeline stream: the training files are read as training goes (datasets.streaming).

@dataclasses.dataclass(frozen=True)
class StreamedTexts:
    """Where a side of a streamed data set comes from: files, and which of their examples it keeps."""

    files: list
    keep: typing.Callable
    source: str


def _stream_sources(options):
    """(train StreamedTexts, valid StreamedTexts, label vocabulary), reading only a bounded sample."""
    from datasets.streaming import expand_files, in_validation
    from datasets.text_classification import label_vocabulary, sample_labelled_texts

    if not options["train_file"]:
        raise UserError("--pipeline stream reads --train-file (a path, glob or list); tensorflow-datasets "
                        "sources are read with --pipeline memory")
    files = expand_files(options["train_file"])
    columns = parse_column(options["text_column"]), parse_column(options["label_column"])
    if options["valid_file"]:
        everything = lambda text: True  # noqa: E731
        train = StreamedTexts(files, everything, options["train_file"])
        valid = StreamedTexts(expand_files(options["valid_file"]), everything, options["valid_file"])
    else:
        fraction, seed = options["valid_fraction"], options["seed"]
        train = StreamedTexts(files, lambda text: not in_validation(text, fraction, seed), options["train_file"])
        valid = StreamedTexts(files, lambda text: in_validation(text, fraction, seed), options["train_file"])
    _, raw = sample_labelled_texts(files, *columns, options["vocabulary_sample"])
    return train, valid, label_vocabulary(raw, options["train_file"])


def _streaming_datasets(options, vectorizer, data):
    import os

    from datasets.streaming import shard_files, worker_share
    from datasets.text_classification import make_streaming_dataset

    columns = parse_column(options["text_column"]), parse_column(options["label_column"])
    batches = dict(vectorizer=vectorizer, batch_size=options.batch_size, max_length=options.max_length,
                   seed=options.seed)
    files, by_file = shard_files(data.train.files)
    train = make_streaming_dataset(files, columns, options.labels, keep=data.train.keep, sharded_by_file=by_file,
                                   shuffle_buffer=options.shuffle_buffer, **batches)
    valid = make_streaming_dataset(data.valid.files, columns, options.labels, keep=data.valid.keep,
                                   shuffle_buffer=0, **batches)
    carved = "carved by a hash of the text" if data.train.files is data.valid.files else "as given"
    index, workers = worker_share()
    share = (f"worker {index} of {workers} streams {len(files)} of {len(data.train.files)} training files "
             f"({', '.join(os.path.basename(f) for f in files)})" if by_file
             else f"streaming {len(files)} training file(s)")
    summary = (f"{share}; validation {carved}; vocabulary {vectorizer.vocabulary_size()}; "
               f"labels {options.labels}")
    return train, valid, summary
