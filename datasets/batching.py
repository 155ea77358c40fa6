"""Batching shared by every pipeline: buckets by length, with the number of batches known.

`bucket_by_sequence_length` gives a dataset of unknown cardinality, so Keras
shows "77/Unknown" and no ETA for a whole first epoch. The number of batches
does not depend on the order of the examples (each bucket yields
ceil(its examples / batch size) batches), so `bucketed` counts them once on
the unshuffled examples, a pass that also fills the examples' cache, and
asserts that count on the (shuffled) dataset it returns.
"""

import tensorflow as tf

from .progress import progress


def bucket_boundaries(max_length, first=16):
    """Powers of two from `first` up to max_length: padding waste stays under half per batch."""
    bounds, b = [], first
    while b < max_length:
        bounds.append(b)
        b *= 2
    return bounds


def bucket_by_length(ds, length_fn, bounds, batch_size, padding_values=None):
    """Padded batches of `batch_size` examples of similar `length_fn`, by the bucket `bounds`."""
    return ds.bucket_by_sequence_length(
        length_fn, bucket_boundaries=bounds, bucket_batch_sizes=[batch_size] * (len(bounds) + 1),
        padding_values=padding_values, drop_remainder=False,
    )


def count_batches(batches, *, examples=None, description="preparing data"):
    """Number of batches in `batches`, by one pass; a bar counts the examples on a terminal."""
    count = 0
    with progress(description=description, unit="examples", total=examples) as bar:
        for batch in batches:
            bar.update(int(tf.shape(tf.nest.flatten(batch)[0])[0]))
            count += 1
    return count


def bucketed(examples, length_fn, *, bounds, batch_size, shuffle, seed, size, padding_values=None,
             description="preparing data"):
    """Bucketed, prefetched batches of `examples` (an unbatched, cached dataset of `size` examples).

    `length_fn(*example)` is the length that picks the bucket; `bounds` the
    bucket boundaries. The result's cardinality is the true number of batches.
    """
    count = count_batches(bucket_by_length(examples, length_fn, bounds, batch_size, padding_values), examples=size,
                          description=description)
    if shuffle:
        examples = examples.shuffle(size, seed=seed, reshuffle_each_iteration=True)
    ds = bucket_by_length(examples, length_fn, bounds, batch_size, padding_values)
    return ds.apply(tf.data.experimental.assert_cardinality(count)).prefetch(tf.data.AUTOTUNE)


def window_batches(train, valid, batch_size, seed):
    """(train, validation) tf.data of (inputs [B, T], targets [B, T]) batches of fixed-width windows held in
    memory: `train` and `valid` are (inputs [N, T], targets [N, T]) arrays; training batches are reshuffled
    every epoch with the seed."""
    train_ds = tf.data.Dataset.from_tensor_slices(train).shuffle(len(train[0]), seed=seed) \
        .batch(batch_size).prefetch(tf.data.AUTOTUNE)
    return train_ds, tf.data.Dataset.from_tensor_slices(valid).batch(batch_size)
