"""Every use of a private Keras API in seqapps, in one place.

Keras 3 keeps these out of its public API, so a minor release may move or
change them without notice. Each one is here with the reason it is needed
and the Keras behaviour it relies on; tests/test_keras_internals.py checks
each of those behaviours, so a Keras upgrade that breaks one fails there, by
name, rather than somewhere inside a training run. setup.cfg pins Keras to
the minor versions those tests passed on.
"""

import keras

try:
    # keras.layers.RNN prepares dropout masks before its loop only for cells of this
    # class; the JAX backend needs that because its loop is stateless.
    from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell  # noqa: F401
    # The loop keras.layers.RNN itself runs: layers.RNN runs the same loop over its
    # hoisted input projection.
    from keras.src.backend import rnn as backend_rnn  # noqa: F401  (tests use it raw)
except ImportError as err:  # pragma: no cover - only if Keras moves them
    raise ImportError(f"seqapps needs a Keras internal that this Keras ({keras.__version__}) lacks ({err}); "
                      "install a Keras version within setup.cfg's range") from None

# Larger than any sequence: a bound on the loop's iterations that is never the one that stops it.
_NO_BOUND = 2 ** 31 - 1


def time_major_rnn(step_function, inputs, initial_states, **kwargs):
    """`backend_rnn` over time-major inputs [T, B, ...] (`time_major=True`), every one of the T steps run.

    The TensorFlow backend takes `input_length or inputs.shape[1]` as the
    bound on its while loop's iterations: axis 1 is the time axis of
    batch-major inputs but the batch axis of time-major ones. Traced with a
    known batch size and an unknown length ([8, None, 88], as a tf.function
    with `reduce_retracing` generalises batches of one size and many
    lengths), the loop stopped after B steps and every later output was 0.
    The length, or else a bound that is never reached, is passed explicitly.
    """
    return backend_rnn(step_function, inputs, initial_states, time_major=True,
                       input_length=inputs.shape[0] or _NO_BOUND, **kwargs)


def build_outside_strategy(model, dataset):
    """Build `model` (made in a tf.distribute scope) from the first batch of `dataset`; return `restore()`.

    For a model made in a strategy scope Keras' TensorFlow trainer draws one
    training batch before `fit`, only for its shapes, and reduces it across
    replicas: that fails for batches of different lengths on different
    workers (MultiWorkerMirroredStrategy), and it uses up one reshuffle of the
    data, so a 2-replica run would see other batches than a 1-replica run.
    Relies on `Model._symbolic_build(data_batch=...)` and on `fit` skipping
    that draw when `Model._distribute_strategy` is None. `restore()` puts the
    strategy back after `fit`. None is returned when the model has no strategy.
    """
    captured = getattr(model, "_distribute_strategy", None)
    if captured is None:
        return None
    model._symbolic_build(data_batch=next(iter(dataset)))
    model._distribute_strategy = None

    def restore():
        model._distribute_strategy = captured

    return restore


class BackupAndRestoreFrom(keras.callbacks.BackupAndRestore):
    """BackupAndRestore that restores from one directory and saves into another.

    A worker that is not the chief saves into a scratch directory but resumes
    from the chief's backup. Relies on BackupAndRestore keeping its file paths
    in `_weights_path` and `_training_metadata_path` and restoring in `_load_model()`.
    """

    def __init__(self, restore_dir, backup_dir, **kwargs):
        super().__init__(str(backup_dir), **kwargs)
        self.restore_dir = str(restore_dir)

    def on_train_begin(self, logs=None):
        import os

        saving = self._weights_path, self._training_metadata_path
        self._weights_path = os.path.join(self.restore_dir, os.path.basename(saving[0]))
        self._training_metadata_path = os.path.join(self.restore_dir, os.path.basename(saving[1]))
        try:
            self._load_model()
        finally:
            self._weights_path, self._training_metadata_path = saving


def fix_multi_worker_mean():
    """Average scalar logs across workers over the replicas, not along axis 0.

    Keras 3 averages each step's logs across workers with reduce(MEAN, axis=0),
    which fails on scalar metrics ("Invalid reduction dimension 0 for input
    with 0 dimensions", tensorflow#72388). Relies on the TensorFlow trainer
    calling the module-level `reduce_per_replica`, and on
    `_collective_all_reduce_multi_worker(strategy)`; everything but the
    multi-worker mean still goes to Keras' own function. Idempotent.
    """
    from keras import tree
    from keras.src.backend.tensorflow import trainer

    keras_reduce = trainer.reduce_per_replica
    if getattr(keras_reduce, "seqapps_fixed", False):
        return

    def rank(value):
        local = value.values[0] if hasattr(value, "values") else value  # PerReplica
        return len(getattr(local, "shape", ()))

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and trainer._collective_all_reduce_multi_worker(strategy):
            return tree.map_structure(lambda v: strategy.reduce("MEAN", v, axis=0 if rank(v) else None), values)
        return keras_reduce(values, strategy, reduction)

    reduce_per_replica.seqapps_fixed = True
    trainer.reduce_per_replica = reduce_per_replica
