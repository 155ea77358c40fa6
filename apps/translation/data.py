"""Where the translation app's pairs come from: generated dates, TSV files or tfds."""

from apps.common.app import StreamedTrainingData, TrainingData, streamed_sides
from datasets.dates import date_pairs
from apps.common.errors import UserError
from datasets.splits import carve, carve_by_key
from datasets.streaming import StreamedSource
from datasets.pairs import read_pairs
from datasets.tfds_loader import load_tfds, tfds_builder

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
        pairs = _tfds_pairs(options["dataset"], "train")
        if "validation" in tfds_builder(options["dataset"]).info.splits:
            return pairs, _tfds_pairs(options["dataset"], "validation")
    source = options["train_file"] or f"tfds:{options['dataset']}"
    if options["valid_split"] == "random":
        return carve(pairs, options["valid_fraction"], options["seed"], source, "pairs")
    return carve_by_key(pairs, source_key, options["valid_fraction"], options["seed"], source, "pairs")


def source_key(pair):
    """What makes two pairs the same source sentence: its words, whatever the case and spacing."""
    return " ".join(pair[0].split()).casefold()


def load_evaluation_data(options, test_file=None, dataset=None, size=10000, seed=12345):
    """Pairs to evaluate on. Generated dates are new ones, none of them seen in training or validation."""
    if test_file:
        return read_pairs(test_file, options["source_column"], options["target_column"])
    if (dataset or options["dataset"]) == "dates":
        train, valid = load_training_data({**options, "train_file": None, "dataset": "dates"})
        return date_pairs(size, seed, exclude={s for s, _ in train + valid})
    return _tfds_pairs(dataset or options["dataset"], "test")


def read_training_data(options):
    """TrainingData of (source, target) pairs, or of two StreamedSources with --pipeline stream; the run records
    the token level it resolved."""
    if options.get("pipeline") == "stream":
        return _stream_sources(options)
    train, valid = load_training_data(options)
    return TrainingData(train, valid, {"level": level_of(options)})


def build_vocabularies(options, data):
    """{"source", "target"}: each side's tokens by frequency; targets keep their case unless target_case=lower."""
    from datasets.seq2seq import build_vocabulary

    pairs = data.sample if isinstance(data, StreamedTrainingData) else data.train
    return {"source": build_vocabulary([s for s, _ in pairs], options.level, options.max_tokens),
            "target": build_vocabulary([t for _, t in pairs], options.level, options.max_tokens,
                                       lowercase=options.target_case == "lower")}


def make_encoders(options, vocabularies):
    """(source lookup, target lookup): StringLookups."""
    from datasets.seq2seq import make_lookup

    return make_lookup(vocabularies["source"]), make_lookup(vocabularies["target"])


def make_datasets(options, encoders, data):
    """(train, validation, summary): bucketed batches of ({"source", "target_in"}, target_out)."""
    from datasets.seq2seq import make_dataset

    source_lookup, target_lookup = encoders
    batches = dict(source_lookup={"lookup": source_lookup, "level": options.level},
                   target_lookup={"lookup": target_lookup, "level": options.level,
                                  "lowercase": options.target_case == "lower"},
                   max_length=options.max_length, batch_size=options.batch_size,
                   seed=options.seed)
    if isinstance(data, StreamedTrainingData):
        return _streaming_datasets(options, data, batches)
    summary = (f"{len(data.train)} training and {len(data.valid)} validation pairs; {options.level} vocabularies "
               f"{source_lookup.vocabulary_size()} -> {target_lookup.vocabulary_size()}")
    return make_dataset(data.train, shuffle=True, **batches), make_dataset(data.valid, shuffle=False, **batches), \
        summary


# --pipeline stream: the training files are read as training goes (datasets.streaming).

def _stream_sources(options):
    if _is_dates(options):
        raise UserError("generated dates are made in memory: --pipeline stream reads --train-file or --dataset")
    if options["valid_split"] == "random" and not options["valid_file"]:
        raise UserError("--pipeline stream carves validation by source sentence: use --valid-split by-source")
    if options["train_file"]:
        train, valid, sample = streamed_sides(options, source_key, lambda path: _pairs(options, path), "pairs")
    else:
        train, valid, sample = _tfds_sides(options)
    return StreamedTrainingData(train, valid, {"level": level_of(options)}, sample=sample)


def _tfds_sides(options):
    """(train, valid, sample) of --dataset: its train split streamed from its file shards, its validation split
    (or a carve of train by source sentence, as for files). A tfds split is named as a path "tfds:NAME/SPLIT"."""
    from datasets.streaming import in_validation, round_robin

    name, fraction, seed = options["dataset"], options["valid_fraction"], options["seed"]
    files = [f"{TFDS}{name}/train"]
    if "validation" in tfds_builder(name).info.splits:
        train, valid = StreamedSource(files, lambda key: True), StreamedSource([f"{TFDS}{name}/validation"],
                                                                              lambda key: True)
    else:
        train = StreamedSource(files, lambda key: not in_validation(key, fraction, seed))
        valid = StreamedSource(files, lambda key: in_validation(key, fraction, seed))
    sample = round_robin([_pairs(options, files[0], train.keep)], options["vocabulary_sample"], "pairs")
    return train, valid, sample


TFDS = "tfds:"


def _pairs(options, path, keep=lambda key: True, shuffled=False):
    """Yield the (source, target) pairs of one file (or tfds split, "tfds:NAME/SPLIT") whose source key `keep`
    accepts; `shuffled`: a tfds split's shards in an order of the seed, reshuffled each epoch."""
    from datasets.pairs import iter_pairs
    from datasets.streaming import TfdsSource

    if path.startswith(TFDS):
        name, split = path[len(TFDS):].rsplit("/", 1)
        source = TfdsSource(name, split, shuffle_seed=options["seed"] if shuffled else None)
        pairs = source.generate(lambda s, t: (s.decode("utf-8"), t.decode("utf-8")))(path)
    else:
        pairs = iter_pairs(path, options["source_column"], options["target_column"])
    for pair in pairs:
        if keep(source_key(pair)):
            yield pair


def _streaming_datasets(options, data, batches):
    from datasets.seq2seq import make_streaming_dataset
    from datasets.streaming import is_carved, shard_files, share_summary

    files, by_file = shard_files(data.train.files)
    train = make_streaming_dataset(files, lambda path: _pairs(options, path, data.train.keep, shuffled=True),
                                   shuffle_buffer=options.shuffle_buffer, sharded_by_file=by_file, **batches)
    valid = make_streaming_dataset(data.valid.files, lambda path: _pairs(options, path, data.valid.keep),
                                   shuffle_buffer=0, **batches)
    carved = "carved by source sentence (a stable hash)" if is_carved(data.train, data.valid) else "as given"
    source_lookup, target_lookup = batches["source_lookup"]["lookup"], batches["target_lookup"]["lookup"]
    summary = (f"{share_summary(files, data.train.files, by_file)}; validation {carved}; {options.level} "
               f"vocabularies {source_lookup.vocabulary_size()} -> {target_lookup.vocabulary_size()}")
    return train, valid, summary
