"""apps.common.training: the shared callbacks."""

import keras
import numpy as np
import pytest

from apps.common.training import WeightNoise


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
