"""layers.NeighbourWordLoss: the cost it adds, checked against NumPy, and what it leaves alone."""

import keras
import numpy as np
import pytest

from layers import NeighbourWordLoss


def _cross_entropy(logits, target):
    logits = logits - logits.max()
    return np.log(np.exp(logits).sum()) - logits[target]


def _expected_cost(layer, features, words):
    """The mean cross-entropy of each real neighbour, forwards and backwards, computed step by step."""
    units, vocabulary = features.shape[-1] // 2, layer.vocabulary_size

    def head(direction, states):
        hidden, output = getattr(layer, f"{direction}_hidden"), getattr(layer, f"{direction}_words")
        h = np.tanh(states @ hidden.kernel.numpy() + hidden.bias.numpy())
        return h @ output.kernel.numpy() + output.bias.numpy()

    costs = {"forward": [], "backward": []}
    for b, row in enumerate(words):
        for t in range(len(row)):
            if row[t] == 0:
                continue
            if t + 1 < len(row) and row[t + 1] > 0:
                logits = head("forward", features[b, t, :units])
                costs["forward"].append(_cross_entropy(logits, min(row[t + 1], vocabulary)))
            if t > 0:
                logits = head("backward", features[b, t, units:])
                costs["backward"].append(_cross_entropy(logits, min(row[t - 1], vocabulary)))
    return layer.weight * (np.mean(costs["forward"]) + np.mean(costs["backward"]))


def test_the_added_cost_is_the_neighbours_cross_entropy_and_rare_words_share_one_class():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(2, 5, 6)).astype("float32")  # U = 3: forward states, then backward
    words = np.array([[3, 9, 2, 7, 0], [12, 1, 4, 0, 0]])  # ids >= 6 are rarer than the 5 predicted words
    layer = NeighbourWordLoss(vocabulary_size=6, weight=0.3, hidden_units=4)
    output = layer([features, words], training=True)
    np.testing.assert_array_equal(output, features)
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), _expected_cost(layer, features, words), rtol=1e-5)


def test_outside_training_it_adds_nothing_and_its_config_round_trips():
    features = np.ones((1, 3, 4), "float32")
    layer = NeighbourWordLoss(vocabulary_size=5, weight=0.2, hidden_units=3, name="neighbours")
    np.testing.assert_array_equal(layer([features, np.array([[2, 3, 0]])], training=False), features)
    assert layer.losses == []
    config = layer.get_config()
    assert {k: config[k] for k in ("vocabulary_size", "weight", "hidden_units")} == \
        {"vocabulary_size": 5, "weight": 0.2, "hidden_units": 3}
    assert keras.layers.deserialize(keras.layers.serialize(layer)).get_config() == config


def test_the_features_mask_passes_through():
    layer = NeighbourWordLoss(vocabulary_size=5)
    mask = np.array([[True, True, False]])
    np.testing.assert_array_equal(layer.compute_mask([np.ones((1, 3, 4)), np.array([[2, 3, 0]])], [mask, None]), mask)


def test_in_a_model_the_cost_joins_the_training_loss_only():
    keras.utils.set_random_seed(0)
    words = keras.Input((None,), dtype="int64")
    x = keras.layers.Embedding(10, 4, mask_zero=True)(words)
    x = keras.layers.Bidirectional(keras.layers.LSTM(3, return_sequences=True))(x)
    x = NeighbourWordLoss(vocabulary_size=8, weight=1.0, hidden_units=2)([x, words])
    model = keras.Model(words, keras.layers.Dense(2)(x))
    model.compile(loss=keras.losses.MeanSquaredError(), optimizer=keras.optimizers.SGD(1e-6))
    batch, y = np.array([[2, 5, 9, 0], [4, 3, 0, 0]]), np.zeros((2, 4, 2), "float32")
    squared_error = model.evaluate(batch, y, verbose=0)
    # Untrained, each direction's cross-entropy is near log(9) (nine classes: ids 1..7 and "rarer").
    assert model.train_on_batch(batch, y) - squared_error == pytest.approx(2 * np.log(9), rel=0.1)
