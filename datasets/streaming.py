"""Examples streamed from many files with tf.data: bounded memory whatever the corpus size.

Nothing here holds the corpus: files are read line by line (through the same
readers as the in-memory pipelines, so bad input is reported with its file
and line), validation is carved by a stable hash of each example
(`splits.stable_fraction`: deterministic for the seed, the same split
whatever the order or number of the files), vocabularies come from a bounded
sample, and batches are shuffled in a bounded buffer.

Under multi-worker training each worker reads its own share of the files
(`shard_files`), so a cluster holds no more than its share per machine.
"""

import dataclasses
import glob
import json
import os
import typing

from .errors import DataError
from .splits import stable_fraction

# A DataError met inside a tf.data generator (which runs on a tf.data thread) reaches
# Keras as a TensorFlow error with the message buried in a traceback; it is kept here
# so that the harness can re-raise the original, one-line error (`raise_stream_error`).
_errors = []


@dataclasses.dataclass(frozen=True)
class StreamedSource:
    """One side of a streamed data set: its files, and which of their examples it keeps (`keep(key)`)."""

    files: list
    keep: typing.Callable


def carved_sources(train_pattern, valid_pattern, fraction, seed):
    """(train, valid) StreamedSources: the validation files as they are, else a carve of the training files.

    The carve keeps an example on the validation side when the stable hash
    of (seed, its key) falls below `fraction`; equal keys stay together.
    """
    files = expand_files(train_pattern)
    if valid_pattern:
        return StreamedSource(files, _everything), StreamedSource(expand_files(valid_pattern), _everything)
    return (StreamedSource(files, lambda key: not in_validation(key, fraction, seed)),
            StreamedSource(files, lambda key: in_validation(key, fraction, seed)))


def _everything(key):
    return True


def is_carved(train, valid):
    """Whether two StreamedSources are the sides of one carve."""
    return train.files is valid.files


def expand_files(pattern):
    """Sorted files of a path, a glob ('shards/*.jsonl.gz') or a comma-separated list of them."""
    files = []
    for part in (p.strip() for p in str(pattern).split(",") if p.strip()):
        matches = sorted(glob.glob(part)) if glob.has_magic(part) else [part]
        if not matches:
            raise DataError(part, "no file matches this pattern")
        for path in matches:
            if not os.path.exists(path):
                raise DataError(path, "no such file")
            if os.path.isdir(path):
                raise DataError(path, "is a directory, expected a file")
        files.extend(matches)
    if not files:
        raise DataError(pattern, "no file given")
    return files


def worker_share():
    """(this worker's index, number of workers) from TF_CONFIG; (0, 1) outside a cluster."""
    config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    cluster, task = config.get("cluster", {}), config.get("task", {})
    workers = cluster.get("chief", []) + cluster.get("worker", [])
    if len(workers) < 2:
        return 0, 1
    index = task.get("index", 0) + (len(cluster.get("chief", [])) if task.get("type") == "worker" else 0)
    return index, len(workers)


def shard_files(files):
    """This worker's files: every n-th, when there are at least as many files as workers; else all of them.

    With fewer files than workers the caller shards by data instead.
    """
    index, workers = worker_share()
    if workers > 1 and len(files) >= workers:
        return files[index::workers], True
    return files, False


def in_validation(key, fraction, seed):
    """Whether the example with this key belongs to the validation carve."""
    return stable_fraction(key, seed) < fraction


def guarded(generator_fn):
    """A generator function whose DataError is remembered for `raise_stream_error` before it propagates."""

    def wrapped(*args):
        try:
            yield from generator_fn(*args)
        except DataError as err:
            _errors.append(err)
            raise

    return wrapped


def raise_stream_error(err):
    """Re-raise the DataError a streamed generator met (a one-line message), else `err` itself."""
    kept = _errors[0] if _errors else None
    _errors.clear()
    if kept is not None:
        raise kept from None
    raise err


def round_robin(iterators, limit, unit="examples"):
    """Up to `limit` items, one of each iterator in turn: shards that each hold one label still give a mixed sample.

    A bar counts them on a terminal.
    """
    from .progress import progress

    iterators, items = list(iterators), []
    with progress(description=f"sampling up to {limit:,} {unit}", unit=unit, total=limit) as bar:
        while iterators and len(items) < limit:
            for iterator in list(iterators):
                item = next(iterator, None)
                if item is None:
                    iterators.remove(iterator)
                elif len(items) < limit:
                    items.append(item)
                    bar.update(1)
    return items


def from_generators(files, generate, signature, shuffle_seed=None):
    """Examples of `generate(path)` for every file (guarded: a DataError comes back as itself), interleaved."""
    import tensorflow as tf

    guarded_generate = guarded(lambda path: generate(path.decode("utf-8")))
    return interleaved(files, shuffle_seed, lambda path: tf.data.Dataset.from_generator(
        guarded_generate, args=(path,), output_signature=signature))


def sharded_by_file(dataset):
    """`dataset` with tf.data's auto-sharding off: it already reads only this worker's files."""
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    return dataset.with_options(options)


def share_summary(files, all_files, by_file):
    """The line saying which training files this process streams."""
    index, workers = worker_share()
    if by_file:
        names = ", ".join(os.path.basename(f) for f in files)
        return f"worker {index} of {workers} streams {len(files)} of {len(all_files)} training files ({names})"
    return f"streaming {len(files)} training file(s)"


def interleaved(files, shuffle_seed, make_dataset, cycle_length=4):
    """The examples of `files` (each through `make_dataset(path)`), read a few files at a time.

    The files' order is shuffled every epoch when `shuffle_seed` is not None.
    """
    import tensorflow as tf

    names = tf.data.Dataset.from_tensor_slices(tf.constant(files, tf.string))
    if shuffle_seed is not None and len(files) > 1:
        names = names.shuffle(len(files), seed=shuffle_seed, reshuffle_each_iteration=True)
    return names.interleave(make_dataset, cycle_length=min(cycle_length, len(files)), block_length=1)
