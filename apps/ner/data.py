"""Where the NER app's sentences come from: CoNLL files or tensorflow-datasets."""

from apps.common.app import StreamedTrainingData, TrainingData, streamed_sides
from datasets.conll import is_iob2, read_conll, to_iob2
from datasets.errors import DataError
from datasets.splits import carve
from datasets.tfds_loader import load_tfds, tfds_builder


def _from_tfds(name, split):
    ds = load_tfds(name, split, as_supervised=False)
    convert = _tfds_sentence(name)
    return [(*convert(example)[:2], i) for i, example in enumerate(ds.as_numpy_iterator(), start=1)]


def _tfds_sentence(name):
    """A NumPy tfds example -> (tokens, tag names, 0): the form of `read_conll`'s sentences (no line number)."""
    names = tfds_builder(name).info.features["ner"].names
    return lambda example: ([t.decode("utf-8") for t in example["tokens"]], [names[j] for j in example["ner"]], 0)


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
        train, valid = carve(train, options["valid_fraction"], options["seed"],
                             options["train_file"] or f"tfds:{options['dataset']}", "sentences")
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


def tag_names(sentences):
    """["O", "B-X", "I-X", ...] of the entity types in training sentences (IOB2)."""
    types = sorted({t[2:] for _, sentence_tags, _ in sentences for t in sentence_tags if t != "O"})
    return ["O"] + [f"{prefix}-{kind}" for kind in types for prefix in "BI"]


def read_training_data(options):
    """TrainingData of IOB2 sentences, or of two StreamedSources plus a bounded sample with --pipeline stream;
    the run records the tags and the source's scheme."""
    if options.get("pipeline") == "stream":
        return _stream_sources(options)
    train, valid, scheme = load_training_data(options)
    tags = tag_names(train)
    check_tags(valid, {t: i for i, t in enumerate(tags)},
               options["valid_file"] or options["train_file"] or options["dataset"])
    return TrainingData(train, valid, {"tags": tags, "source_scheme": scheme, "scheme": "IOB2"})


def build_vocabularies(options, data):
    """{"words": lower-cased, digits as 0, by frequency; "chars": by frequency} of the training sentences."""
    from datasets.conll import build_vocabularies as by_frequency

    words, chars = by_frequency(data.sample if isinstance(data, StreamedTrainingData) else data.train)
    return {"words": words, "chars": chars}


def make_encoders(options, vocabularies):
    """(word lookup, char lookup): StringLookups, 0 padding and 1 unknown."""
    from datasets.conll import make_lookups

    return make_lookups(vocabularies["words"], vocabularies["chars"])


def make_dataset(options, encoders, sentences, shuffle=False, batch_size=None, in_order=False):
    """Bucketed batches of ({"words", "chars"}, gold tag ids [B, T], -1 at padding); `in_order`: unbucketed, in
    the order of `sentences`."""
    from datasets.conll import make_dataset as batches

    word_lookup, char_lookup = encoders
    return batches(sentences, {t: i for i, t in enumerate(options.tags)}, word_lookup, char_lookup,
                   batch_size=batch_size or options.batch_size, max_chars=options.max_chars, shuffle=shuffle,
                   seed=options.seed, in_order=in_order)


def _scheme(options):
    """How the tags came: "IOB1 converted to IOB2", or "IOB2" when nothing was converted."""
    return "IOB2" if options.source_scheme == "IOB2" else f"{options.source_scheme} converted to IOB2"


def make_datasets(options, encoders, data):
    """(train, validation, summary)."""
    if isinstance(data, StreamedTrainingData):
        return _streaming_datasets(options, encoders, data)
    word_lookup, char_lookup = encoders
    summary = (f"{len(data.train)} training and {len(data.valid)} validation sentences "
               f"({_scheme(options)}); {word_lookup.vocabulary_size()} words, "
               f"{char_lookup.vocabulary_size()} characters, tags {options.tags}")
    return make_dataset(options, encoders, data.train, shuffle=True), make_dataset(options, encoders, data.valid), \
        summary


# --pipeline stream: the training files are read as training goes (datasets.streaming).

def _stream_sources(options):
    """StreamedTrainingData whose tags and scheme come from the sample, as the vocabularies do."""
    from datasets.conll import iter_conll

    if options["train_file"]:
        train, valid, sample = streamed_sides(
            options, lambda sentence: " ".join(sentence[0]),
            lambda path: iter_conll(path, options["tag_column"], options["token_prefix"]), "sentences")
    else:  # --dataset: its train and validation splits, read from their file shards
        from datasets.streaming import TfdsSource, tfds_sample

        train = TfdsSource(options["dataset"], "train", shuffle_seed=options["seed"])
        valid = TfdsSource(options["dataset"], "validation")
        sample = tfds_sample(train, None, _tfds_sentence(options["dataset"]), options["vocabulary_sample"],
                             "sentences", as_supervised=False)
    sample, scheme = as_iob2(sample)
    return StreamedTrainingData(train, valid, {"tags": tag_names(sample), "source_scheme": scheme,
                                               "scheme": "IOB2"}, sample=sample)


def _tfds_tagged(name, tag_index, label):
    """A NumPy tfds example -> (tokens, IOB2 tag ids), as `streamed_sentences` yields them from files."""
    sentence = _tfds_sentence(name)

    def convert(example):
        tokens, tags, _ = sentence(example)
        tags = to_iob2(tags)
        for tag in tags:
            if tag not in tag_index:
                raise DataError(label, f"entity type of {tag!r} never occurs in the training sample")
        return tokens, [tag_index[tag] for tag in tags]

    return convert


def _streaming_datasets(options, encoders, data):
    from datasets.conll import make_streaming_dataset, streamed_sentences
    from datasets.streaming import TfdsSource, is_carved, shard_files, share_summary

    word_lookup, char_lookup = encoders
    tag_index = {t: i for i, t in enumerate(options.tags)}
    read = dict(tag_column=options.tag_column, token_prefix=options.token_prefix)
    batches = dict(batch_size=options.batch_size, max_chars=options.max_chars, seed=options.seed)
    if isinstance(data.train, TfdsSource):
        def sentences(source):
            return source.generate(_tfds_tagged(options.dataset, tag_index, source.label), as_supervised=False)

        train = make_streaming_dataset([data.train.label], sentences(data.train), word_lookup, char_lookup,
                                       shuffle_buffer=options.shuffle_buffer, **batches)
        valid = make_streaming_dataset([data.valid.label], sentences(data.valid), word_lookup, char_lookup,
                                       shuffle_buffer=0, **batches)
        return train, valid, (f"streaming {data.train.label} from its file shards; validation {data.valid.label}; "
                              f"vocabularies from {len(data.sample):,} sentences ({_scheme(options)}): "
                              f"{word_lookup.vocabulary_size()} words, {char_lookup.vocabulary_size()} characters; "
                              f"tags {options.tags}")
    files, by_file = shard_files(data.train.files)
    train = make_streaming_dataset(
        files, lambda path: streamed_sentences(path, tag_index, keep=data.train.keep, **read), word_lookup,
        char_lookup, shuffle_buffer=options.shuffle_buffer, sharded_by_file=by_file, **batches)
    valid = make_streaming_dataset(
        data.valid.files, lambda path: streamed_sentences(path, tag_index, keep=data.valid.keep, **read),
        word_lookup, char_lookup, shuffle_buffer=0, **batches)
    carved = "carved by a hash of the sentence" if is_carved(data.train, data.valid) else "as given"
    summary = (f"{share_summary(files, data.train.files, by_file)}; validation {carved}; "
               f"vocabularies from {len(data.sample):,} sentences ({_scheme(options)}): "
               f"{word_lookup.vocabulary_size()} words, {char_lookup.vocabulary_size()} characters; "
               f"tags {options.tags}")
    return train, valid, summary


def streamed_evaluation_dataset(options, encoders, test_file, batch_size, dataset=None, split="test"):
    """Batches of a CoNLL --test-file (a path, glob or list), or of a tfds split read from its file shards,
    streamed; a tag the run never had names its line."""
    from datasets.conll import make_streaming_dataset, streamed_sentences
    from datasets.streaming import TfdsSource, expand_files

    word_lookup, char_lookup = encoders
    tag_index = {t: i for i, t in enumerate(options.tags)}
    batches = dict(batch_size=batch_size, max_chars=options.max_chars, shuffle_buffer=0, seed=options.seed)
    if not test_file:
        source = TfdsSource(dataset or options.dataset, split)
        return make_streaming_dataset([source.label], source.generate(
            _tfds_tagged(source.name, tag_index, source.label), as_supervised=False), word_lookup, char_lookup,
            **batches)
    return make_streaming_dataset(
        expand_files(test_file), lambda path: streamed_sentences(path, tag_index, tag_column=options.tag_column,
                                                                 token_prefix=options.token_prefix),
        word_lookup, char_lookup, **batches)
