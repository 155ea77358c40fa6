"""Evaluation at serving speed: a compiled function over the batches of a dataset.

Calling a Keras model eagerly batch by batch runs every op from Python (about
100 IMDB reviews/s); one `tf.function` traced for the batch shapes runs the
same graph the SavedModel serves. `reduce_retracing` keeps the traces to a
few even when bucketed batches have many widths.
"""

import math

import numpy as np

from datasets.progress import progress


def compiled(fn):
    """`fn` as a tf.function that generalises over batch shapes instead of retracing for each."""
    import tensorflow as tf

    return tf.function(fn, reduce_retracing=True)


def map_batches(step, dataset, *, description="evaluating"):
    """[step(*batch) as NumPy] for each batch of `dataset`, in order; a bar with ETA on a terminal.

    `step` should be `compiled(...)` once by the caller, so repeated calls
    (an evaluation every epoch) reuse its traces.
    """
    import tensorflow as tf

    size = int(dataset.cardinality())
    results = []
    for batch in progress(dataset, description=description, unit="batches", total=size if size >= 0 else None):
        out = step(*batch) if isinstance(batch, tuple) else step(batch)
        results.append(tf.nest.map_structure(np.asarray, out))
    return results


def as_batches(x, y, batch_size=256):
    """x, y [N, T] as a tf.data of (x [B, T], y [B, T]) batches."""
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)


def next_token_log_probabilities(model, batches):
    """Per row of the (x [B, T], y [B, T]) `batches`: (log-probability of its targets [N], real targets [N],
    correct argmaxes [N]), in order.

    `model`: ids [B, T] -> logits [B, T, V]; targets 0 are padding, not scored; every other
    target is, whatever probability the model gives it. A row's log-probability is the
    model's log p of the whole example (end mark included, where the targets hold it).
    """
    from keras import ops

    def step(inputs, targets):
        log_probs = ops.log_softmax(model(inputs, training=False), axis=-1)
        keep = ops.cast(targets > 0, "float32")
        picked = ops.take_along_axis(log_probs, ops.expand_dims(targets, -1), axis=-1)[..., 0]
        hits = ops.cast(ops.cast(ops.argmax(log_probs, axis=-1), "int32") == ops.cast(targets, "int32"), "float32")
        return ops.sum(picked * keep, axis=1), ops.sum(keep, axis=1), ops.sum(hits * keep, axis=1)

    rows = map_batches(compiled(step), batches, description="scoring")
    return tuple(np.concatenate([r[i] for r in rows]) if rows else np.zeros(0, "float32") for i in range(3))


def next_token_scores(model, batches):
    """NLL per token (nats), perplexity and next-token accuracy of a next-token model on (x, y) batches."""
    log_probability, tokens, hits = next_token_log_probabilities(model, batches)
    nll, count = -float(np.sum(log_probability, dtype="float64")), float(np.sum(tokens, dtype="float64"))
    if not count:
        raise ValueError("no tokens to score")
    return {"tokens": int(count), "nll_per_token": nll / count, "accuracy": float(np.sum(hits)) / count,
            "perplexity": math.exp(nll / count)}
