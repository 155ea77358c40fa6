"""The Keras behaviours that layers/keras_internals.py relies on: one test each, failing by name on a Keras change."""

import keras
import numpy as np
import pytest

from layers import GRUCell, MyRNNCell
from layers import keras_internals as internals


def test_keras_rnn_draws_one_dropout_mask_per_sequence_for_dropout_rnn_cells():
    """keras.layers.RNN resets a DropoutRNNCell's masks per call, so every step of a sequence shares one."""
    cell = MyRNNCell(3, dropout=0.5, seed=1)
    assert isinstance(cell, internals.DropoutRNNCell)
    rnn = keras.layers.RNN(cell, return_sequences=True)
    x = np.ones((2, 4, 5), "float32")
    rnn(x, training=True)
    first = np.asarray(cell.get_dropout_mask(x[:, 0]))
    assert set(np.unique(first)) <= {0.0, 2.0}  # inverted dropout at rate 0.5
    np.testing.assert_array_equal(np.asarray(cell.get_dropout_mask(x[:, 1])), first)  # cached until the reset
    rnn(x, training=True)  # a new call draws afresh: the cache was reset
    assert cell.get_dropout_mask(x[:, 0]) is not None


def test_backend_rnn_runs_a_step_function_over_time():
    """The loop of keras.layers.RNN: step(x_t, states) -> (output, states), outputs [B, T, ...]."""
    inputs = np.arange(6, dtype="float32").reshape(1, 3, 2)

    def step(x, states):
        total = states[0] + x
        return total, [total]

    last, outputs, states = internals.backend_rnn(step, inputs, [np.zeros((1, 2), "float32")])
    np.testing.assert_allclose(np.asarray(outputs)[0], np.cumsum(inputs[0], axis=0))
    np.testing.assert_allclose(np.asarray(last)[0], [6.0, 9.0])


@pytest.mark.tf_only
def test_time_major_rnn_runs_every_step_when_only_the_batch_size_is_known():
    """TensorFlow's loop bounds its iterations by `input_length or inputs.shape[1]` (the batch, time-major)."""
    import tensorflow as tf

    inputs = np.ones((5, 2, 1), "float32")  # 5 steps, batch 2, time-major

    def step(x, states):
        total = states[0] + x
        return total, [total]

    def raw(x):
        return internals.backend_rnn(step, x, [tf.zeros((2, 1))], time_major=True)[1]

    def fixed(x):
        return internals.time_major_rnn(step, x, [tf.zeros((2, 1))])[1]

    signature = [tf.TensorSpec([None, 2, 1])]
    expected = np.arange(1, 6, dtype="float32").reshape(5, 1, 1) * np.ones((5, 2, 1))
    np.testing.assert_allclose(np.asarray(tf.function(fixed, input_signature=signature)(inputs)), expected)
    # The quirk the wrapper works around: when this fails, Keras has fixed it and the wrapper can go.
    quirk = np.asarray(tf.function(raw, input_signature=signature)(inputs))
    np.testing.assert_allclose(quirk[:2], expected[:2])
    np.testing.assert_allclose(quirk[2:], 0.0)


@pytest.mark.tf_only
def test_build_outside_strategy_stops_fit_drawing_an_extra_training_batch():
    import tensorflow as tf

    drawn = []

    def counted(n):
        def note(i):
            drawn.append(int(i))
            return i

        ds = tf.data.Dataset.range(n).map(lambda i: tf.py_function(note, [i], tf.int64))
        return ds.map(lambda i: (tf.fill([2, 3], tf.cast(i, tf.float32)), tf.zeros([2, 1]))).apply(
            tf.data.experimental.assert_cardinality(n))

    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile("sgd", "mse")
    valid = tf.data.Dataset.from_tensors((tf.zeros([2, 3]), tf.zeros([2, 1])))
    restore = internals.build_outside_strategy(model, valid)
    assert model.built and restore is not None
    with strategy.scope():
        model.fit(counted(4), epochs=1, verbose=0, shuffle=False)
    restore()
    assert model.distribute_strategy is strategy
    assert sorted(drawn) == [0, 1, 2, 3], "fit drew a training batch before training"
    assert internals.build_outside_strategy(keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)]),
                                            valid) is None


def test_backup_and_restore_from_resumes_from_another_directory(tmp_path):
    x, y = np.ones((8, 2), "float32"), np.ones((8, 1), "float32")

    def model():
        m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        m.compile("sgd", "mse")
        return m

    model().fit(x, y, epochs=1, verbose=0,
                callbacks=[keras.callbacks.BackupAndRestore(str(tmp_path / "chief"), delete_checkpoint=False)])
    epochs = []
    record = keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: epochs.append(epoch))
    model().fit(x, y, epochs=3, verbose=0,
                callbacks=[internals.BackupAndRestoreFrom(tmp_path / "chief", tmp_path / "worker",
                                                          delete_checkpoint=False), record])
    assert epochs == [1, 2], "did not resume after the chief's completed epoch"
    assert list((tmp_path / "worker").iterdir()), "nothing was saved into the new directory"


@pytest.mark.tf_only
def test_multi_worker_mean_fix_wraps_the_trainer_function_keras_calls():
    from keras.src.backend.tensorflow import trainer

    assert callable(trainer._collective_all_reduce_multi_worker)
    internals.fix_multi_worker_mean()
    internals.fix_multi_worker_mean()  # idempotent
    assert trainer.reduce_per_replica.seqapps_fixed
    import tensorflow as tf

    one_device = tf.distribute.get_strategy()
    assert float(trainer.reduce_per_replica(tf.constant(2.5), one_device, "auto")) == 2.5  # not multi-worker: Keras'


def test_cells_still_work_in_bidirectional_after_the_fence():
    layer = keras.layers.Bidirectional(keras.layers.RNN(GRUCell(2)))
    assert tuple(layer(np.zeros((1, 3, 4), "float32")).shape) == (1, 4)
