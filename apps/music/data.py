"""The music app's tunes: parse (cached), split by tune, transpose, cut into windows."""

import click
import numpy as np

from apps.common.app import StreamedTrainingData, TrainingData
from apps.common.errors import UserError
from datasets.music import cache_tunes, cached_tunes, corpus_files, folder_files, load_tunes, transpose
from datasets.progress import progress
from datasets.splits import carve
from datasets.streaming import StreamedSource

PAD, START, UNKNOWN, END = "", "[START]", "[UNK]", "[END]"


def music_files(options):
    """The files of --data-dir, or of the embedded --corpus, in a stable order."""
    return folder_files(options["data_dir"]) if options["data_dir"] else corpus_files(options["corpus"])


def read_tunes(options, echo=click.echo):
    """All tunes of the configured source, in a stable order; reports files that failed."""
    files = music_files(options)
    tunes_read = 0
    with progress(description=f"reading {len(files)} files", unit="files", total=len(files)) as bar:
        def file_done(tunes_in_file):
            nonlocal tunes_read
            tunes_read += tunes_in_file
            bar.set_postfix(tunes=tunes_read, refresh=False)
            bar.update(1)

        tunes, failures = load_tunes(files, limit=options["limit"], progress=file_done,
                                     representation=options["representation"])
    _report_failures(failures, files, echo)
    return [_ended(options, tune) for tune in tunes]


def _ended(options, tune):
    title, tokens = tune
    if options["representation"] == "abc":  # a tune ends: generation knows when to stop
        return title, tokens + [END]
    return tune


def _report_failures(failures, files, echo):
    if failures:
        echo(f"{len(failures)} of {len(files)} files could not be parsed and were skipped:", err=True)
        for path, reason in failures[:20]:
            echo(f"  {path}: {reason}", err=True)


def split_tunes(tunes, fraction, seed):
    """(train, valid): whole tunes, carved with the seed; never a tune in both."""
    if len(tunes) < 2:
        raise UserError(f"only {len(tunes)} tune(s) parsed; need at least two to split train and validation")
    return carve(tunes, fraction, seed, "tunes", "tunes")


def augment(tunes, transpositions):
    return list(augmented(tunes, transpositions))


def augmented(tunes, transpositions):
    """Each tune moved by -K..K semitones (the moves that keep it in range), one at a time; K = 0: as it is."""
    if not transpositions:  # abc tunes, whose tokens are not all notes
        yield from tunes
        return
    for title, tokens in tunes:
        for shift in range(-transpositions, transpositions + 1):
            moved = transpose(tokens, shift)
            if moved is not None:
                yield title, moved


def vocabulary_of(tunes):
    """Padding, start, the events by frequency, then [UNK]: an event of validation or a primer unseen in training.

    [UNK] is never a training target, so the model learns to give it little
    probability, and an unseen event costs what the model gives [UNK].
    """
    counts = {}
    for _, tokens in tunes:
        for t in tokens:
            counts[t] = counts.get(t, 0) + 1
    return [PAD, START] + sorted(counts, key=lambda t: (-counts[t], t)) + [UNKNOWN]


def event_ids(tokens, index):
    """Ids of `tokens`, an unseen event as [UNK]; a run made before [UNK] existed leaves unseen events out."""
    unknown = index.get(UNKNOWN)
    return [index.get(t, unknown) for t in tokens if t in index or unknown is not None]


def unseen_events(tunes, index):
    """How many events of `tunes` the vocabulary lacks."""
    return sum(t not in index for _, tokens in tunes for t in tokens)


def windows(tunes, index, window):
    """(inputs, targets) int32 [N, window]: [START] + events, cut every `window` events, 0 padded."""
    inputs, targets = [], []
    for _, tokens in tunes:
        ids = [index[START]] + event_ids(tokens, index)
        for start in range(0, len(ids) - 1, window):
            chunk = ids[start:start + window + 1]
            x, y = chunk[:-1], chunk[1:]
            inputs.append(x + [0] * (window - len(x)))
            targets.append(y + [0] * (window - len(y)))
    return np.array(inputs, "int32"), np.array(targets, "int32")


def read_training_data(options):
    """TrainingData of (title, events) tunes: training tunes with their transpositions, validation tunes as they are;
    with --pipeline stream, of two StreamedSources of the files and a bounded sample of training tunes."""
    if options.get("pipeline") == "stream":
        return _stream_sources(options)
    train, valid = split_tunes(read_tunes(options), options["valid_fraction"], options["seed"])
    if options["representation"] == "events":
        train = augment(train, options["transpositions"])
    return TrainingData(train, valid, {"mode": "events"})


def build_vocabularies(options, data):
    """{"events": padding, start, then the training events by frequency} (of the sample with --pipeline stream)."""
    if isinstance(data, StreamedTrainingData):
        moves = options.transpositions if options.representation == "events" else 0
        return {"events": vocabulary_of(augmented(data.sample, moves))}
    return {"events": vocabulary_of(data.train)}


def make_encoders(options, vocabularies):
    """{event: id} of the run's vocabulary."""
    return {t: i for i, t in enumerate(vocabularies["events"])}


def make_datasets(options, index, data):
    """(train, validation, summary): batches of event windows (inputs [B, window], targets [B, window])."""
    from datasets.batching import window_batches

    if isinstance(data.train, StreamedSource):
        return _streaming_datasets(options, index, data)
    x, y = windows(data.train, index, options.window)
    vx, vy = windows(data.valid, index, options.window)
    moved = " (with transpositions)" if options.representation == "events" else ""
    summary = (f"{len(data.train)} training tunes{moved}, {len(data.valid)} validation tunes; "
               f"{len(index)} tokens; {len(x)} training windows")
    return (*window_batches((x, y), (vx, vy), options.batch_size, options.seed), summary)


def check_run(options, path):
    if options.get("mode") != "events":
        raise UserError(f"{path}: a polyphonic benchmark run; train, evaluate and generate need a `train` run")


# --pipeline stream: tunes read from the parse cache file by file as training goes (datasets.streaming).

def _stream_sources(options, echo=click.echo):
    """StreamedTrainingData of the files, carved by a stable hash of each tune's tokens, and the sample of
    training tunes the vocabulary comes from. Files not yet parsed are parsed into the cache first (one at a
    time held), so that every epoch reads parsed tunes."""
    from datasets.streaming import round_robin

    if options["limit"]:
        raise UserError("--limit is for --pipeline memory (a stream reads every file)")
    files = music_files(options)
    with progress(description=f"parsing {len(files)} files into the cache", unit="files", total=len(files)) as bar:
        failures = cache_tunes(files, progress=lambda _: bar.update(1), representation=options["representation"])
    _report_failures(failures, files, echo)
    train, valid = _carved(options, files)
    read = _file_tunes(options)
    sample = round_robin(((t for t in read(path) if train.keep(t)) for path in files), options["vocabulary_sample"],
                         "tunes")
    if not sample:
        raise UserError(f"no training tunes in the {len(files)} files")
    return StreamedTrainingData(train, valid, {"mode": "events"}, sample=sample)


def _carved(options, files):
    """(train, valid) StreamedSources of `files`: a tune is a validation tune when the stable hash of its
    tokens falls in --valid-fraction, so equal tunes in two files stay on one side."""
    from datasets.streaming import in_validation

    def is_valid(tune):
        return in_validation(" ".join(tune[1]), options["valid_fraction"], options["seed"])

    return StreamedSource(files, lambda tune: not is_valid(tune)), StreamedSource(files, is_valid)


def _file_tunes(options):
    """path -> its tunes, read from the parse cache."""
    return lambda path: (_ended(options, tune) for tune in cached_tunes(path, representation=options["representation"]))


def _streaming_datasets(options, index, data):
    from datasets.streaming import is_carved, shard_files, share_summary

    files, by_file = shard_files(data.train.files)
    moves = options.transpositions if options.representation == "events" else 0
    train = stream_windows(options, index, files, data.train.keep, transpositions=moves,
                           shuffle_buffer=options.shuffle_buffer, sharded_by_file=by_file)
    valid = stream_windows(options, index, data.valid.files, data.valid.keep)
    carved = "carved by a hash of the tune" if is_carved(data.train, data.valid) else "as given"
    moved = " (with transpositions)" if moves else ""
    summary = (f"{share_summary(files, data.train.files, by_file)}{moved}; validation {carved}; {len(index)} tokens "
               f"from {len(data.sample):,} sampled tunes")
    return train, valid, summary


def stream_windows(options, index, files, keep, *, transpositions=0, shuffle_buffer=0, sharded_by_file=False,
                   seen=None):
    """tf.data of (inputs [B, window], targets [B, window]) int32 batches of the kept tunes of `files`, cut as
    `windows` cuts them; nothing cached. `seen(tokens)` is called with each tune streamed (to count what it
    holds)."""
    import tensorflow as tf

    from datasets.streaming import from_generators, sharded_by_file as files_only

    read, window = _file_tunes(options), options.window

    def tune_ids(path):
        for tune in read(path):
            if keep(tune):
                for _, tokens in augmented([tune], transpositions):
                    if seen:
                        seen(tokens)
                    yield [index[START]] + event_ids(tokens, index)

    def cut(ids):
        def piece(start):
            chunk = ids[start:start + window + 1]
            pad = [[0, window + 1 - tf.shape(chunk)[0]]]  # the last piece of a tune: 0 after its end
            return tuple(tf.ensure_shape(tf.pad(part, pad), [window]) for part in (chunk[:-1], chunk[1:]))

        return tf.data.Dataset.range(0, tf.cast(tf.shape(ids)[0] - 1, tf.int64), window).map(
            lambda start: piece(tf.cast(start, tf.int32)))

    ds = from_generators(files, tune_ids, tf.TensorSpec([None], tf.int32),
                         shuffle_seed=options.seed if shuffle_buffer else None).flat_map(cut)
    if shuffle_buffer:
        ds = ds.shuffle(shuffle_buffer, seed=options.seed, reshuffle_each_iteration=True)
    ds = ds.batch(options.batch_size)
    return (files_only(ds) if sharded_by_file else ds).prefetch(tf.data.AUTOTUNE)


def streamed_validation(options, index):
    """(batches, counts) of the run's validation tunes, streamed: counts fills in {"tunes", "unseen_events"}
    as the batches are read."""
    counts = {"tunes": 0, "unseen_events": 0}

    def seen(tokens):
        counts["tunes"] += 1
        counts["unseen_events"] += sum(t not in index for t in tokens)

    _, valid = _carved(options, music_files(options))
    return stream_windows(options, index, valid.files, valid.keep, seen=seen), counts
