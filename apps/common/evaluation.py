"""Evaluation at serving speed: a compiled function over the batches of a dataset.

Calling a Keras model eagerly batch by batch runs every op from Python (about
100 IMDB reviews/s); one `tf.function` traced for the batch shapes runs the
same graph the SavedModel serves. `reduce_retracing` keeps the traces to a
few even when bucketed batches have many widths.
"""

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
