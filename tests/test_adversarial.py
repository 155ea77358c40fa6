"""Adversarial training on the embeddings: the perturbation layer, and the step of
apps.common.adversarial.AdversarialModel checked against a step computed by hand with its own GradientTape."""

import keras
import numpy as np
import pytest

from apps.common.adversarial import AdversarialModel
from layers import EmbeddingPerturbation

IDS = np.array([[3, 1, 4, 1, 5], [2, 6, 0, 0, 0]], dtype="int64")  # the second row is padded after 2 steps
LABELS = np.array([1.0, 0.0], dtype="float32")


def _model(epsilon, cls=AdversarialModel):
    """ids [B, T] -> P(positive) [B, 1]: embedding (masked), the perturbation, masked mean over time, Dense."""
    ids = keras.Input((None,), dtype="int64")
    x = keras.layers.Embedding(8, 4, mask_zero=True, embeddings_initializer=keras.initializers.RandomNormal(seed=1),
                               name="embedding")(ids)
    x = EmbeddingPerturbation(epsilon, name="embedding_perturbation")(x)
    x = keras.layers.GlobalAveragePooling1D()(x)  # mask-aware: padded steps do not count
    output = keras.layers.Dense(1, activation="sigmoid", kernel_initializer=keras.initializers.RandomNormal(seed=2),
                                name="head")(x)
    model = cls(ids, output)
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss="binary_crossentropy")
    return model


def _perturbed(embedded, gradient, mask, epsilon):
    """The layer's formula in NumPy: e + epsilon |e|_2 g / |g|_2 per example, over real steps only."""
    real = mask[..., None].astype("float32")
    size = np.sqrt(((embedded * real) ** 2).sum(axis=(1, 2), keepdims=True))
    direction = gradient * real
    return embedded + epsilon * size * direction / np.sqrt((direction ** 2).sum(axis=(1, 2), keepdims=True))


@pytest.mark.tf_only  # the training step is TensorFlow's (GradientTape)
def test_an_adversarial_step_applies_the_gradient_of_the_clean_plus_the_perturbed_loss():
    import tensorflow as tf

    epsilon = 0.5
    model = _model(epsilon)
    start = [w.numpy().copy() for w in model.trainable_weights]
    table, head = model.get_layer("embedding"), model.get_layer("head")
    loss = keras.losses.BinaryCrossentropy()

    def loss_of(embedded, weights):  # the model after the embedding, on given embeddings and weights
        kernel, bias = weights
        mask = tf.cast(IDS > 0, "float32")[..., None]
        pooled = tf.reduce_sum(embedded * mask, 1) / tf.reduce_sum(mask, 1)
        return loss(LABELS[:, None], tf.sigmoid(pooled @ kernel + bias))

    weights = [tf.Variable(w) for w in start]
    with tf.GradientTape(persistent=True) as tape:
        embedded = tf.gather(weights[0], IDS)
        clean = loss_of(embedded, weights[1:])
    towards = tape.gradient(clean, embedded)
    perturbed = _perturbed(embedded.numpy(), towards.numpy(), IDS > 0, epsilon)
    with tf.GradientTape() as tape2:
        adversarial = loss_of(tf.gather(weights[0], IDS) - embedded + perturbed, weights[1:])
    expected = [w - tf.convert_to_tensor(g1) - tf.convert_to_tensor(g2) for w, g1, g2 in
                zip(start, tape.gradient(clean, weights), tape2.gradient(adversarial, weights))]

    model.fit(IDS, LABELS, batch_size=2, epochs=1, shuffle=False, verbose=0)
    assert [w.path for w in model.trainable_weights] == [table.embeddings.path, head.kernel.path, head.bias.path]
    for got, want in zip(model.trainable_weights, expected):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    assert not np.allclose(expected[1], start[1] - tape.gradient(clean, weights)[1])  # the second term counts


@pytest.mark.tf_only  # the training step is TensorFlow's (GradientTape)
def test_with_epsilon_zero_the_step_is_a_plain_step():
    adversarial, plain = _model(0.0), _model(0.0, cls=keras.Model)
    for model in (adversarial, plain):
        model.fit(IDS, LABELS, batch_size=2, epochs=1, shuffle=False, verbose=0)
    for a, p in zip(adversarial.trainable_weights, plain.trainable_weights):
        np.testing.assert_allclose(a.numpy(), p.numpy(), rtol=1e-6)


def test_the_layer_perturbs_real_steps_only_and_adds_nothing_without_a_direction():
    layer = EmbeddingPerturbation(0.1)
    embedded = np.random.default_rng(0).normal(size=(2, 5, 4)).astype("float32")
    mask = IDS > 0
    np.testing.assert_array_equal(layer(embedded, mask=mask), embedded)
    gradient = np.random.default_rng(1).normal(size=(2, 5, 4)).astype("float32")
    layer.direction = gradient
    out = keras.ops.convert_to_numpy(layer(embedded, mask=mask))
    layer.direction = None
    np.testing.assert_allclose(out, _perturbed(embedded, gradient, mask, 0.1), rtol=1e-5)
    np.testing.assert_array_equal(out[1, 2:], embedded[1, 2:])  # padding untouched
    moved = np.sqrt(((out - embedded) ** 2).sum(axis=(1, 2)))
    size = np.sqrt(((embedded * mask[..., None]) ** 2).sum(axis=(1, 2)))
    np.testing.assert_allclose(moved, 0.1 * size, rtol=1e-5)  # epsilon times the example's own size


@pytest.mark.tf_only  # the training step is TensorFlow's (GradientTape)
def test_the_model_and_layer_round_trip_through_a_keras_file(tmp_path):
    model = _model(0.25)
    model.fit(IDS, LABELS, batch_size=2, epochs=1, verbose=0)
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    assert type(loaded) is AdversarialModel
    assert loaded.get_layer("embedding_perturbation").get_config() == \
        model.get_layer("embedding_perturbation").get_config()
    np.testing.assert_allclose(loaded.predict(IDS, verbose=0), model.predict(IDS, verbose=0), rtol=1e-6)


def test_a_negative_epsilon_is_refused():
    with pytest.raises(ValueError, match="epsilon"):
        EmbeddingPerturbation(-0.1)
