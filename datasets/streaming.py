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


@dataclasses.dataclass(frozen=True)
class TfdsSource:
    """A tensorflow-datasets split (or one side of its carve), read from its own file shards as it streams.

    `shuffle_seed`: the shards are read in an order of this seed, reshuffled
    each epoch (training); None: in order. `carve`: (fraction, seed, which
    side: True for validation) keeps one side of a carve by a stable hash of
    each example's key, computed in the graph (`tf_in_validation`); None: all.
    """

    name: str
    split: str
    shuffle_seed: typing.Optional[int] = None
    carve: typing.Optional[tuple] = None

    @property
    def label(self):
        return f"tfds:{self.name}/{self.split}"

    def examples(self, key_of=None, as_supervised=True):
        """tf.data of the examples (tfds' own structure); `key_of(*example)` -> the carve's key [] string.

        Left to tf.data's auto-sharding, a multi-worker run shards it by file:
        tfds splits are TFRecord shards.
        """
        import tensorflow as tf

        from .tfds_loader import load_tfds

        ds = load_tfds(self.name, self.split, as_supervised=as_supervised, shuffle_files_seed=self.shuffle_seed)
        if self.carve is None:
            return ds
        fraction, seed, validation = self.carve
        return ds.filter(lambda *example: tf.equal(tf_in_validation(key_of(*example), fraction, seed), validation))

    def generate(self, convert, key_of=None, as_supervised=True):
        """A `generate(path)` for the file-based streaming pipelines (`from_generators([source.label], ...)`):
        the examples as NumPy through `convert`, read as they stream; the path is ignored."""
        def generate(_):
            for example in self.examples(key_of, as_supervised).as_numpy_iterator():
                yield convert(*example) if isinstance(example, tuple) else convert(example)

        return generate


def tfds_sides(name, split, fraction, seed):
    """(train, valid) TfdsSources: the carve of one tfds split by a stable hash of each example's key."""
    return (TfdsSource(name, split, seed, (fraction, seed, False)), TfdsSource(name, split, None, (fraction, seed, True)))


def tf_in_validation(key, fraction, seed):
    """In the graph: whether the example with this key [] string is on the validation side of the carve.

    A keyed strong hash (SipHash) of the key: fixed for (key, seed) in every
    process and whatever the order of the shards, as `in_validation` is for files.
    """
    import tensorflow as tf

    buckets = 2 ** 62
    bucket = tf.strings.to_hash_bucket_strong(key, buckets, key=[seed % 2 ** 64, 0x5EED])
    return bucket < int(fraction * buckets)


def tfds_sample(source, key_of, convert, limit, what, as_supervised=True):
    """The first `limit` examples of a TfdsSource, each through `convert(*numpy example)`, with a bar."""
    from .progress import progress

    items = []
    with progress(description=f"sampling up to {limit:,} {what} of {source.label}", unit=what, total=limit) as bar:
        for item in source.generate(convert, key_of, as_supervised)(None):
            items.append(item)
            bar.update(1)
            if len(items) >= limit:
                break
    return items


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
