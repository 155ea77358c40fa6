"""Where the sentiment app's examples come from: local files or tensorflow-datasets."""

from apps.common.app import StreamedTrainingData, TrainingData, streamed_sides
from datasets.errors import DataError
from datasets.files import parse_column
from datasets.splits import carve
from datasets.text_classification import (
    encode_labels, label_vocabulary, load_tfds_texts, read_labelled_texts,
)


def _read(path, options):
    return read_labelled_texts(path, *_columns(options))


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
    """TrainingData of ((texts, labels), (texts, labels)), or of two StreamedSources with --pipeline stream;
    the run records the label vocabulary."""
    if options.get("pipeline") == "stream":
        return _stream_sources(options)
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
    from datasets.text_classification import adapt_vectorizer, make_vectorizer

    texts = [text for text, _ in data.sample] if isinstance(data, StreamedTrainingData) else data.train[0]
    return {"tokens": adapt_vectorizer(make_vectorizer(options.max_tokens), texts).get_vocabulary()}


def make_encoders(options, vocabularies):
    """The TextVectorization of the run's vocabulary (texts -> ragged token ids)."""
    from datasets.text_classification import make_vectorizer

    return make_vectorizer(options.max_tokens, vocabularies["tokens"])


def make_datasets(options, vectorizer, data):
    """(train, validation, summary): bucketed batches of (ids [B, T], labels [B])."""
    from datasets.text_classification import make_dataset

    if isinstance(data, StreamedTrainingData):
        return _streaming_datasets(options, vectorizer, data)
    batches = dict(vectorizer=vectorizer, batch_size=options.batch_size, max_length=options.max_length,
                   seed=options.seed)
    (train_texts, train_labels), (valid_texts, valid_labels) = data.train, data.valid
    summary = (f"{len(train_texts)} training and {len(valid_texts)} validation texts; "
               f"vocabulary {vectorizer.vocabulary_size()}; labels {options.labels}")
    return (make_dataset(train_texts, train_labels, shuffle=True, **batches),
            make_dataset(valid_texts, valid_labels, shuffle=False, **batches), summary)


# --pipeline stream: the training files are read as training goes (datasets.streaming).

def _stream_sources(options):
    """StreamedTrainingData whose label vocabulary comes from the sample, as the vocabulary does."""
    from datasets.text_classification import label_vocabulary, labelled_rows

    if not options["train_file"]:  # --dataset: as the in-memory pipeline, which then ignores --valid-file
        train, valid, sample = _tfds_sides(options)
        source = train.label
    else:
        columns = _columns(options)
        train, valid, sample = streamed_sides(options, lambda row: row[0],
                                              lambda path: labelled_rows(path, *columns), "texts")
        source = options["train_file"]
    labels = sorted({label for _, label in sample})
    if len(labels) == 1:  # e.g. IMDB's own files, negative reviews first
        raise DataError(source, f"the first {len(sample):,} training texts (one of each file in turn) all have "
                        f"the label {labels[0]!r}: shuffle files sorted by label, or raise --vocabulary-sample, so "
                        "that the sample the labels and vocabulary come from is mixed")
    labels = label_vocabulary([label for _, label in sample], source)
    return StreamedTrainingData(train, valid, {"labels": labels}, sample=sample)


def _columns(options):
    """(text column, label column) as the readers take them: names, or 0-based numbers."""
    return parse_column(options["text_column"]), parse_column(options["label_column"])


def _tfds_sides(options):
    """(train, valid, sample) of --dataset's train split streamed from its file shards, carved by a hash of
    the text computed in the graph."""
    from datasets.streaming import tfds_sample, tfds_sides
    from datasets.text_classification import tfds_label

    train, valid = tfds_sides(options["dataset"], "train", options["valid_fraction"], options["seed"])
    sample = tfds_sample(train, lambda text, label: text, tfds_label, options["vocabulary_sample"], "texts")
    if not sample:
        raise DataError(train.label, "no training texts")
    return train, valid, sample


def _streaming_datasets(options, vectorizer, data):
    from datasets.streaming import TfdsSource, is_carved, shard_files, share_summary
    from datasets.text_classification import make_streaming_dataset, make_tfds_streaming_dataset

    batches = dict(vectorizer=vectorizer, batch_size=options.batch_size, max_length=options.max_length,
                   seed=options.seed)
    if isinstance(data.train, TfdsSource):
        train = make_tfds_streaming_dataset(data.train, options.labels, shuffle_buffer=options.shuffle_buffer,
                                            **batches)
        valid = make_tfds_streaming_dataset(data.valid, options.labels, shuffle_buffer=0, **batches)
        return train, valid, (f"streaming {data.train.label} from its file shards; validation carved by a hash of "
                              f"the text; vocabulary {vectorizer.vocabulary_size()}; labels {options.labels}")
    files, by_file = shard_files(data.train.files)
    train = make_streaming_dataset(files, _columns(options), options.labels, keep=data.train.keep,
                                   sharded_by_file=by_file, shuffle_buffer=options.shuffle_buffer, **batches)
    valid = make_streaming_dataset(data.valid.files, _columns(options), options.labels, keep=data.valid.keep,
                                   shuffle_buffer=0, **batches)
    carved = "carved by a hash of the text" if is_carved(data.train, data.valid) else "as given"
    summary = (f"{share_summary(files, data.train.files, by_file)}; validation {carved}; "
               f"vocabulary {vectorizer.vocabulary_size()}; labels {options.labels}")
    return train, valid, summary


def streamed_evaluation_dataset(options, vectorizer, test_file, batch_size, dataset=None, split="test"):
    """Bucketed (ids [B, T], labels [B]) batches of a labelled --test-file (a path, glob or list), or of a tfds
    split read from its file shards, streamed."""
    from datasets.streaming import TfdsSource, expand_files
    from datasets.text_classification import make_streaming_dataset, make_tfds_streaming_dataset

    batches = dict(batch_size=batch_size, max_length=options.max_length, shuffle_buffer=0, seed=0)
    if test_file:
        return make_streaming_dataset(expand_files(test_file), _columns(options), options.labels, vectorizer,
                                      **batches)
    return make_tfds_streaming_dataset(TfdsSource(dataset or options.dataset, split), options.labels, vectorizer,
                                       **batches)


# A language model's training text (`lm-text`): the classifier's own training side, tokenised as it reads it.

def training_texts(options):
    """The texts of the training side a run with these options trains on (validation texts never), streamed:
    the in-memory carve, or with --pipeline stream the streamed carve of the files or the tfds split."""
    if options.get("pipeline") != "stream":
        yield from load_training_data(options)[0][0]
        return
    if not options["train_file"]:
        from datasets.text_classification import tfds_label

        train = _tfds_sides(options)[0]
        yield from train.generate(lambda text, label: text.decode("utf-8", "replace"), tfds_label)(None)
        return
    from datasets.streaming import carved_sources
    from datasets.text_classification import labelled_rows

    train, _ = carved_sources(options["train_file"], options["valid_file"], options["valid_fraction"],
                              options["seed"])
    for path in train.files:
        yield from (text for text, _ in labelled_rows(path, *_columns(options)) if train.keep(text))


def unlabeled_texts(pattern):
    """The lines of the files of a path, glob or comma-separated list (blank lines skipped)."""
    from datasets.files import read_lines
    from datasets.streaming import expand_files

    for path in expand_files(pattern):
        yield from (line for _, line in read_lines(path) if line.strip())


def write_language_model_text(options, output, unlabeled_file=None, reverse=False, batch_size=1024):
    """Write the run's training texts (and `unlabeled_file`'s lines) to `output`, one per line, as the
    classifier's TextVectorization tokenises them (lower-cased, punctuation split off, tokens joined by one
    space), so that a word-level language model trained on it (`apps.textgen --mode text --level word`) has
    the classifier's words; `reverse`: each text's tokens last to first. Returns (texts, tokens) written."""
    import itertools
    import os

    import tensorflow as tf

    from datasets.text_classification import standardize

    texts = training_texts(options)
    if unlabeled_file:
        texts = itertools.chain(texts, unlabeled_texts(unlabeled_file))
    count = tokens = 0
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    partial = f"{output}.partial"  # streamed, not held: a crash leaves no half-written file under the name asked
    try:
        with open(partial, "w", encoding="utf-8") as handle:
            while batch := list(itertools.islice(texts, batch_size)):
                for line in standardize(tf.constant(batch)).numpy():
                    words = line.decode("utf-8").split()[::-1 if reverse else 1]
                    handle.write(" ".join(words) + "\n")
                    count, tokens = count + 1, tokens + len(words)
        os.replace(partial, output)
    except BaseException:
        if os.path.exists(partial):
            os.unlink(partial)
        raise
    return count, tokens
