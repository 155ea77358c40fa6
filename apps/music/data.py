"""The music app's tunes: parse (cached), split by tune, transpose, cut into windows."""

import click
import numpy as np

from apps.common.app import TrainingData
from apps.common.errors import UserError
from datasets.music import corpus_files, folder_files, load_tunes, transpose
from datasets.progress import progress
from datasets.splits import carve

PAD, START, UNKNOWN, END = "", "[START]", "[UNK]", "[END]"


def read_tunes(options, echo=click.echo):
    """All tunes of the configured source, in a stable order; reports files that failed."""
    files = folder_files(options["data_dir"]) if options["data_dir"] else corpus_files(options["corpus"])
    tunes_read = 0
    with progress(description=f"reading {len(files)} files", unit="files", total=len(files)) as bar:
        def file_done(tunes_in_file):
            nonlocal tunes_read
            tunes_read += tunes_in_file
            bar.set_postfix(tunes=tunes_read, refresh=False)
            bar.update(1)

        tunes, failures = load_tunes(files, limit=options["limit"], progress=file_done,
                                     representation=options["representation"])
    if failures:
        echo(f"{len(failures)} of {len(files)} files could not be parsed and were skipped:", err=True)
        for path, reason in failures[:20]:
            echo(f"  {path}: {reason}", err=True)
    if options["representation"] == "abc":  # a tune ends: generation knows when to stop
        tunes = [(title, tokens + [END]) for title, tokens in tunes]
    return tunes


def split_tunes(tunes, fraction, seed):
    """(train, valid): whole tunes, carved with the seed; never a tune in both."""
    if len(tunes) < 2:
        raise UserError(f"only {len(tunes)} tune(s) parsed; need at least two to split train and validation")
    return carve(tunes, fraction, seed, "tunes", "tunes")


def augment(tunes, transpositions):
    out = []
    for title, tokens in tunes:
        for shift in range(-transpositions, transpositions + 1):
            moved = transpose(tokens, shift)
            if moved is not None:
                out.append((title, moved))
    return out


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
    """TrainingData of (title, events) tunes: training tunes with their transpositions, validation tunes as they are."""
    train, valid = split_tunes(read_tunes(options), options["valid_fraction"], options["seed"])
    if options["representation"] == "events":
        train = augment(train, options["transpositions"])
    return TrainingData(train, valid, {"mode": "events"})


def build_vocabularies(options, data):
    """{"events": padding, start, then the training events by frequency}."""
    return {"events": vocabulary_of(data.train)}


def make_encoders(options, vocabularies):
    """{event: id} of the run's vocabulary."""
    return {t: i for i, t in enumerate(vocabularies["events"])}


def make_datasets(options, index, data):
    """(train, validation, summary): batches of event windows (inputs [B, window], targets [B, window])."""
    import tensorflow as tf

    x, y = windows(data.train, index, options.window)
    vx, vy = windows(data.valid, index, options.window)
    moved = " (with transpositions)" if options.representation == "events" else ""
    summary = (f"{len(data.train)} training tunes{moved}, {len(data.valid)} validation tunes; "
               f"{len(index)} tokens; {len(x)} training windows")
    train = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=options.seed) \
        .batch(options.batch_size).prefetch(tf.data.AUTOTUNE)
    return train, tf.data.Dataset.from_tensor_slices((vx, vy)).batch(options.batch_size), summary


def check_run(options, path):
    if options.get("mode") != "events":
        raise UserError(f"{path}: a polyphonic benchmark run; train, evaluate and generate need a `train` run")
