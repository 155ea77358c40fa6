import numpy as np
import pytest

import keras

from layers import BahdanauAttention, LuongAttention

rng = np.random.default_rng(0)
QUERY = rng.normal(size=(2, 3, 4)).astype("float32")
VALUES = rng.normal(size=(2, 5, 4)).astype("float32")
MASK = np.array([[True, True, True, False, False], [True] * 5])


def softmax(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def reference_scores(layer, query, values):
    """The papers' formulas in NumPy, from the layer's own weights."""
    if isinstance(layer, BahdanauAttention):
        q = query @ np.asarray(layer.query_kernel)
        v = values @ np.asarray(layer.values_kernel)
        return np.tanh(q[:, :, None, :] + v[:, None, :, :]) @ np.asarray(layer.score_vector)
    q = query @ np.asarray(layer.kernel) if layer.score_mode == "general" else query
    s = q @ values.transpose(0, 2, 1)
    return s / np.sqrt(values.shape[-1]) if layer.scale else s


LAYERS = {
    "bahdanau": lambda: BahdanauAttention(6),
    "luong_general": lambda: LuongAttention(),
    "luong_dot_scaled": lambda: LuongAttention(score="dot", scale=True),
}


@pytest.mark.parametrize("name", LAYERS)
def test_matches_reference_and_honours_mask(name):
    layer = LAYERS[name]()
    context, weights = layer(QUERY, VALUES, values_mask=MASK)
    context, weights = np.asarray(context), np.asarray(weights)
    scores = reference_scores(layer, QUERY, VALUES)
    expected = softmax(np.where(MASK[:, None, :], scores, -np.inf))
    np.testing.assert_allclose(weights, expected, atol=1e-5)
    np.testing.assert_array_equal(weights[0, :, 3:], 0.0)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(context, expected @ VALUES, atol=1e-5)
    # The padded values cannot leak into the context.
    changed = VALUES.copy()
    changed[0, 3:] = 100.0
    np.testing.assert_allclose(np.asarray(layer(QUERY, changed, values_mask=MASK)[0])[0], context[0], atol=1e-5)


@pytest.mark.parametrize("name", LAYERS)
def test_single_decoder_step_and_all_padding(name):
    layer = LAYERS[name]()
    context, weights = layer(QUERY[:, 0], VALUES, values_mask=MASK)
    assert context.shape == (2, 4) and weights.shape == (2, 5)
    full, _ = layer(QUERY, VALUES, values_mask=MASK)
    np.testing.assert_allclose(np.asarray(context), np.asarray(full)[:, 0], atol=1e-6)
    _, weights = layer(QUERY, VALUES, values_mask=np.zeros_like(MASK))
    assert np.all(np.isfinite(np.asarray(weights)))


@pytest.mark.parametrize("name", LAYERS)
def test_config_and_save_round_trip(name, tmp_path):
    layer = LAYERS[name]()
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    q, v = keras.Input((3, 4)), keras.Input((5, 4))
    context, weights = layer(q, v)
    model = keras.Model([q, v], [context, weights])
    model.save(tmp_path / "a.keras")
    loaded = keras.models.load_model(tmp_path / "a.keras")
    for a, b in zip(loaded([QUERY, VALUES]), model([QUERY, VALUES])):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=0)


def test_dot_score_refuses_mismatched_sizes():
    with pytest.raises(ValueError, match="score='general'"):
        LuongAttention(score="dot")(QUERY, VALUES[..., :3])
