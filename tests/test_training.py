"""apps.common.training: the shared callbacks."""

import csv

import keras
import numpy as np
import pytest

from apps.common.training import WeightNoise, weight_averaging


def _regression(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="dense")])
    model.compile(keras.optimizers.SGD(0.1), loss="mse")
    x = np.arange(12, dtype="float32").reshape(4, 3) / 10
    y = np.ones((4, 2), dtype="float32")
    return model, x, y


def _sgd_step(kernel, bias, x, y, lr=0.1):
    """One SGD step on mean squared error, by hand: the gradient at (kernel, bias)."""
    error = x @ kernel + bias - y  # [4, 2]
    scale = 2.0 / error.size
    return kernel - lr * scale * x.T @ error, bias - lr * scale * error.sum(0)


def test_weight_noise_takes_the_gradient_at_noisy_weights_and_updates_the_clean_ones():
    model, x, y = _regression()
    kernel, bias = (np.array(w) for w in model.get_weights())
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0, callbacks=[WeightNoise(0.5, seed=7)])
    rng = np.random.default_rng([7, 0, 0])  # (seed, epoch, batch): the noise of the one step
    noise = [rng.normal(0.0, 0.5, w.shape).astype("float32") for w in (kernel, bias)]
    noisy_kernel, noisy_bias = kernel + noise[0], bias + noise[1]
    # The update is computed at the noisy weights, then the noise is taken off again.
    stepped = _sgd_step(noisy_kernel, noisy_bias, x, y)
    expected = (stepped[0] - noise[0], stepped[1] - noise[1])
    for got, want in zip(model.get_weights(), expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # Without noise the same step lands elsewhere: the noise did change the gradient.
    plain = _sgd_step(kernel, bias, x, y)
    assert not np.allclose(plain[0], expected[0], atol=1e-3)


def test_weight_noise_draws_by_seed_epoch_and_batch_over_a_whole_training():
    model, x, y = _regression()
    kernel, bias = (np.array(w) for w in model.get_weights())
    model.fit(x, y, batch_size=2, epochs=2, shuffle=False, verbose=0, callbacks=[WeightNoise(0.2, seed=3)])
    for epoch in range(2):
        for batch in range(2):
            rng = np.random.default_rng([3, epoch, batch])
            noise = [rng.normal(0.0, 0.2, w.shape).astype("float32") for w in (kernel, bias)]
            rows = slice(2 * batch, 2 * batch + 2)
            stepped = _sgd_step(kernel + noise[0], bias + noise[1], x[rows], y[rows])
            kernel, bias = stepped[0] - noise[0], stepped[1] - noise[1]
    for got, want in zip(model.get_weights(), (kernel, bias)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="positive"):
        WeightNoise(0.0)


def _averaging_run(run_path, epochs, momentum=0.5):
    """A tiny regression trained by `fit` with an averaging Adam; returns the raw weights after every step."""
    from apps.common.rundir import RunDir
    from apps.common.training import fit

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="dense")])
    model.compile(keras.optimizers.Adam(0.05, **weight_averaging({"ema_momentum": momentum})), loss="mse")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3)).astype("float32")
    y = (x @ np.array([[1, -1], [2, 0], [0, 3]], "float32") + 0.5).astype("float32")
    import tensorflow as tf

    train = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    valid = tf.data.Dataset.from_tensor_slices((x[:8], y[:8])).batch(8)
    steps = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: steps.append([np.array(w) for w in model.get_weights()]))
    fit(model, train, valid, RunDir(run_path, "test"), epochs=epochs, patience=10, verbose=0,
        extra_callbacks=[record])
    return steps, (x[:8], y[:8])


def test_averaged_weights_are_the_ones_validated_kept_and_resumed(tmp_path):
    assert weight_averaging({"ema_momentum": 0.0}) == {} and weight_averaging({}) == {}
    steps, (x, y) = _averaging_run(tmp_path / "run", epochs=3)
    # The average by hand, as Keras keeps it: the weights after the first step, then momentum 0.5 each step.
    average = steps[0]
    for weights in steps[1:]:
        average = [0.5 * a + 0.5 * w for a, w in zip(average, weights)]
    rows = list(csv.DictReader(open(tmp_path / "run" / "metrics.csv")))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    val_losses = [float(r["val_loss"]) for r in rows]
    assert val_losses[-1] == min(val_losses)  # the regression keeps improving: the last epoch is the one kept
    kept = keras.models.load_model(tmp_path / "run" / "model.keras")
    for got, want, raw in zip(kept.get_weights(), average, steps[-1]):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        assert not np.allclose(got, raw, atol=1e-3)  # the average, not the last step's weights
    # Validation scored the kept (averaged) weights.
    np.testing.assert_allclose(np.mean((kept.predict(x, verbose=0) - y) ** 2), val_losses[-1], rtol=1e-4)
    # Two epochs, then continued to three: the backup held the trained weights and the average apart.
    _averaging_run(tmp_path / "resumed", epochs=2)
    _averaging_run(tmp_path / "resumed", epochs=3)
    resumed = keras.models.load_model(tmp_path / "resumed" / "model.keras")
    for got, want in zip(resumed.get_weights(), kept.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def _shuffled_run(run_path, epochs):
    """A tiny regression trained by `fit` with SGD on batches reshuffled every epoch from a seed, as every
    pipeline here makes them; returns the model's weights at the end."""
    import tensorflow as tf

    from apps.common.rundir import RunDir
    from apps.common.training import fit

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="dense")])
    model.compile(keras.optimizers.SGD(0.05), loss="mse")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3)).astype("float32")
    y = (x @ np.array([[1, -1], [2, 0], [0, 3]], "float32") + 0.5).astype("float32")
    train = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(16, seed=3, reshuffle_each_iteration=True).batch(4)
    valid = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    fit(model, train, valid, RunDir(run_path, "test"), epochs=epochs, patience=10, verbose=0)
    return model.get_weights()


def test_a_resumed_run_sees_each_epoch_in_the_uninterrupted_runs_order(tmp_path):
    # Each call builds its dataset anew, as a new process does; the resumed run's epochs 2 and 3 must be
    # shuffled as the uninterrupted run's were, or its weights part from them.
    whole = _shuffled_run(tmp_path / "whole", epochs=3)
    _shuffled_run(tmp_path / "resumed", epochs=1)
    resumed = _shuffled_run(tmp_path / "resumed", epochs=3)
    for got, want in zip(resumed, whole):
        np.testing.assert_array_equal(got, want)
    # The order does matter here: a run whose every epoch had the first epoch's order ends elsewhere.
    _shuffled_run(tmp_path / "restarted", epochs=1)
    (tmp_path / "restarted" / "metrics.csv").unlink()  # the run forgets its epochs: epoch 2 is shuffled as 1 was
    restarted = _shuffled_run(tmp_path / "restarted", epochs=3)
    assert not all(np.array_equal(got, want) for got, want in zip(restarted, whole))


def _scripted_run(run_path, epochs, scores=(0.5, 0.7, 0.6, 0.65, 0.66, 0.9)):
    """A tiny regression trained by `fit` with early stopping (patience 2) and learning-rate halving (patience 1)
    on a scripted validation score; returns metrics.csv's rows (epoch, learning rate, score)."""
    import tensorflow as tf

    from apps.common.rundir import RunDir
    from apps.common.training import fit

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="dense")])
    model.compile(keras.optimizers.SGD(0.08), loss="mse")
    x = np.ones((8, 3), "float32")
    train = tf.data.Dataset.from_tensor_slices((x, x[:, :2])).batch(4)
    script = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: logs.update(
        val_score=scores[epoch], rate=float(model.optimizer.learning_rate)))  # the epoch's rate, before halving
    fit(model, train, train, RunDir(run_path, "test"), epochs=epochs, monitor="val_score", mode="max", patience=2,
        reduce_lr_patience=1, verbose=0, extra_callbacks=[script])
    return [(row["epoch"], round(float(row["rate"]), 6), row["val_score"])
            for row in csv.DictReader(open(run_path / "metrics.csv"))]


def test_a_resumed_run_stops_and_halves_the_learning_rate_when_the_uninterrupted_one_does(tmp_path):
    whole = _scripted_run(tmp_path / "whole", epochs=6)
    # Epoch 2 (0.6) does not better epoch 1 (0.7): the rate is halved after it; epoch 3 (0.65) neither: halved
    # again, and the second epoch without improvement stops the run.
    assert [(epoch, rate) for epoch, rate, _ in whole] == [("0", 0.08), ("1", 0.08), ("2", 0.08), ("3", 0.04)]
    _scripted_run(tmp_path / "resumed", epochs=3)  # interrupted after epoch 2, one epoch without improvement
    assert _scripted_run(tmp_path / "resumed", epochs=6) == whole


A_SCORES = [0.5, 0.6, 0.7, 0.8, 0.9]  # branch a keeps improving
B_SCORES = [0.5, 0.7, 0.6, 0.65, 0.9]  # branch b's best is epoch 1; patience 0 stops it after epoch 2


def _two_branch_run(run_path, epochs, a_scores=A_SCORES, b_scores=B_SCORES, patience=0):
    """Two linear branches of one input, each with its own output column of one loss, trained by `fit` with
    branch stopping on scripted validation scores (a callback before it writes them into the epoch's logs).
    Returns (model, each epoch's weights {layer name: [arrays]} as the epoch ended, history)."""
    import tensorflow as tf

    from apps.common.rundir import RunDir
    from apps.common.training import fit

    keras.utils.set_random_seed(0)
    inputs = keras.Input((3,))
    outputs = keras.layers.Concatenate()([keras.layers.Dense(1, name="a")(inputs),
                                          keras.layers.Dense(1, name="b")(inputs)])
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(0.05), loss="mse")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3)).astype("float32")
    y = np.stack([x @ [1, 2, 3], x @ [-1, 0, 1]], axis=1).astype("float32")
    train = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    weights = {}

    def script(epoch, logs):
        logs.update(val_a_score=a_scores[epoch], val_b_score=b_scores[epoch])

    def record(epoch, logs):
        weights[epoch] = {name: [np.array(w) for w in model.get_layer(name).get_weights()] for name in "ab"}

    history = fit(model, train, train, RunDir(run_path, "test"), epochs=epochs, patience=10, verbose=0,
                  monitor="val_a_score", mode="max",
                  branch_stopping=(patience, {"val_a_score": ["a"], "val_b_score": ["b"]}),
                  extra_callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=script),
                                   keras.callbacks.LambdaCallback(on_epoch_end=record)])
    return model, weights, history


def test_branch_stopping_puts_a_branch_back_at_its_best_and_trains_the_others_on(tmp_path):
    model, weights, history = _two_branch_run(tmp_path / "run", epochs=5)
    assert len(history.epoch) == 5
    # b: best at epoch 1, no better at epoch 2 -> epoch 1's weights back and untouched since (weights[e] is
    # recorded before the branch stopping of epoch e, hence epoch 2's own weights there).
    assert not np.allclose(weights[2]["b"][0], weights[1]["b"][0])
    for got, want in zip(model.get_layer("b").get_weights(), weights[1]["b"]):
        np.testing.assert_array_equal(got, want)
    for epoch in (3, 4):
        for got, want in zip(weights[epoch]["b"], weights[1]["b"]):
            np.testing.assert_array_equal(got, want)
    # a trained on through the last epoch, and alone: b's weights are no longer the model's trainable ones.
    assert not np.allclose(weights[4]["a"][0], weights[3]["a"][0])
    assert {id(w) for w in model.trainable_weights} == {id(w) for w in model.get_layer("a").weights}
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints" / "branches").iterdir()) == [
        "val_a_score.npz", "val_b_score.npz"]


@pytest.mark.parametrize("patience", [0, 1, 2, 3])
def test_branch_patience_waits_as_long_as_keras_early_stopping(tmp_path, patience):
    """A branch stops at the end of the epoch where keras.callbacks.EarlyStopping, with the same patience on
    the same scores, stops a fit (on B_SCORES: 0 and 1 after epoch 2, 2 after epoch 3, 3 never)."""
    keras_rule = keras.callbacks.EarlyStopping(monitor="score", mode="max", patience=patience)
    stand_in = keras.Sequential()
    stand_in.stop_training = False  # as fit sets it
    keras_rule.set_model(stand_in)
    keras_rule.on_train_begin()
    stopped_after = None
    for epoch, score in enumerate(B_SCORES):
        keras_rule.on_epoch_end(epoch, {"score": score})
        if keras_rule.model.stop_training:
            stopped_after = epoch
            break
    assert stopped_after == {0: 2, 1: 2, 2: 3, 3: None}[patience]  # the rule compared with is the one meant
    _, weights, _ = _two_branch_run(tmp_path / "run", epochs=5, patience=patience)
    last_trained = 4 if stopped_after is None else stopped_after
    for epoch in range(1, last_trained + 1):  # weights[e]: as epoch e ended, before its stopping decision
        assert not np.allclose(weights[epoch]["b"][0], weights[epoch - 1]["b"][0]), epoch
    for epoch in range(last_trained + 1, 5):  # then frozen at its best, epoch 1's weights
        np.testing.assert_array_equal(weights[epoch]["b"][0], weights[1]["b"][0])


def test_branch_stopping_is_replayed_when_a_run_resumes(tmp_path):
    whole, _, _ = _two_branch_run(tmp_path / "whole", epochs=5)
    # Interrupted right after the epoch whose end stopped b, then resumed: the decision and b's best weights
    # come back from the metrics and the saved best, and the run ends where the uninterrupted one did.
    _two_branch_run(tmp_path / "resumed", epochs=3)
    resumed, weights, history = _two_branch_run(tmp_path / "resumed", epochs=5)
    assert history.epoch == [3, 4] and "b" not in {w.path.split("/")[0] for w in resumed.trainable_weights}
    for got, want in zip(resumed.get_weights(), whole.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_branch_stopping_ends_the_fit_when_every_branch_has_stopped(tmp_path):
    # a's best is its first epoch: it stops after epoch 1, b after epoch 2, and nothing is left to train.
    _, _, history = _two_branch_run(tmp_path / "run", epochs=5, a_scores=[0.5, 0.4, 0.3, 0.2, 0.1])
    assert history.epoch == [0, 1, 2]


def test_the_best_checkpoint_keeps_the_weights_validated_at_a_branch_stopping_epoch(tmp_path):
    # The run's monitor (a's score) is best at epoch 2, the epoch whose end stops b: the model kept is the one
    # validated then, with b's epoch-2 weights, not the epoch-1 weights that come back for the epochs after it.
    _, weights, history = _two_branch_run(tmp_path / "run", epochs=5, a_scores=[0.5, 0.6, 0.9, 0.8, 0.7])
    assert history.epoch == [0, 1, 2, 3]
    kept = keras.models.load_model(tmp_path / "run" / "model.keras")
    for name in "ab":
        for got, want in zip(kept.get_layer(name).get_weights(), weights[2][name]):
            np.testing.assert_array_equal(got, want)
