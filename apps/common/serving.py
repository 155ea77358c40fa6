"""Graph helpers shared by the exported signatures of every app."""

import tensorflow as tf


def nonempty_batch(batch):
    """batch [B, ...] -> (the batch, or one filler row ("" or 0) when B is 0; B).

    Keras' recurrent layers fail on an empty batch, and a server must still
    answer one: slice every output with [:B].
    """
    n = tf.shape(batch)[0]
    filler = tf.zeros(tf.concat([[1], tf.shape(batch)[1:]], axis=0), batch.dtype)
    return tf.cond(n > 0, lambda: batch, lambda: filler), n


def first_rows(outputs, n):
    """{name: [B', ...]} -> {name: [n, ...]}."""
    return {name: value[:n] for name, value in outputs.items()}
