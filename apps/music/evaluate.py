"""Scores of a trained next-event model: pure functions, no printing."""

import math

from apps.common.evaluation import compiled, map_batches


def next_event_scores(model, x, y, batch_size=256):
    """NLL per event (nats), perplexity and next-event accuracy of windows x, y [N, T] (0: padding, not scored)."""
    import tensorflow as tf
    from keras import ops

    def step(inputs, targets):
        log_probs = ops.log_softmax(model(inputs, training=False), axis=-1)
        keep = ops.cast(targets > 0, "float32")
        picked = ops.take_along_axis(log_probs, ops.expand_dims(targets, -1), axis=-1)[..., 0]
        hits = ops.cast(ops.cast(ops.argmax(log_probs, axis=-1), "int32") == ops.cast(targets, "int32"), "float32")
        return -ops.sum(picked * keep), ops.sum(hits * keep), ops.sum(keep)

    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)
    sums = map_batches(compiled(step), dataset, description="scoring")
    nll, hits, count = (sum(float(s[i]) for s in sums) for i in range(3))
    if not count:
        raise ValueError("no events to score")
    return {"events": int(count), "nll_per_event": nll / count, "accuracy": hits / count,
            "perplexity": math.exp(nll / count)}


def evaluate_run(trained):
    """next_event_scores of a TrainedRun on its validation tunes."""
    from .data import read_tunes, split_tunes, windows

    options = trained.options
    _, valid = split_tunes(read_tunes(options), options.valid_fraction, options.seed)
    x, y = windows(valid, trained.encoders, options.window)
    return {"tunes": len(valid), **next_event_scores(trained.model, x, y)}


def report(result):
    from apps.common.cli import format_table

    return format_table([(k, f"{result[k]:.4f}") for k in ("nll_per_event", "perplexity", "accuracy")],
                        ["metric", "value"])
