"""Our cells against Keras' own, in every setting a user puts them in.

Runs on the TensorFlow backend and, through test_jax_backend.py, on JAX.
"""

import numpy as np
import pytest

import keras

from layers import GRUCell, LSTMCell, MyRNNCell

BACKEND = keras.backend.backend()
B, T, D, U = 3, 7, 5, 4

# name -> (our cell factory, Keras' cell factory, Keras' layer factory)
KINDS = {
    "rnn": (lambda **k: MyRNNCell(U, **k), lambda **k: keras.layers.SimpleRNNCell(U, **k),
            lambda **k: keras.layers.SimpleRNN(U, **k)),
    "gru_reset_after": (lambda **k: GRUCell(U, reset_after=True, **k),
                        lambda **k: keras.layers.GRUCell(U, reset_after=True, **k),
                        lambda **k: keras.layers.GRU(U, reset_after=True, **k)),
    "gru_reset_before": (lambda **k: GRUCell(U, reset_after=False, **k),
                         lambda **k: keras.layers.GRUCell(U, reset_after=False, **k),
                         lambda **k: keras.layers.GRU(U, reset_after=False, **k)),
    "lstm": (lambda **k: LSTMCell(U, **k), lambda **k: keras.layers.LSTMCell(U, **k),
             lambda **k: keras.layers.LSTM(U, **k)),
}


def random_inputs(seed=0):
    return np.random.default_rng(seed).normal(size=(B, T, D)).astype("float32")


def random_weights(layer, seed=1):
    """Non-trivial weights (biases too), so that parity tests every term."""
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32") for w in layer.get_weights()])


def copy_weights(src, dst):
    assert [w.path.split("/")[-1] for w in src.weights] == [w.path.split("/")[-1] for w in dst.weights]
    dst.set_weights(src.get_weights())


def gradients(model, x):
    """d sum(outputs**2) / d weights, and / d inputs when they are float."""
    float_inputs = np.issubdtype(x.dtype, np.floating)
    if BACKEND == "tensorflow":
        import tensorflow as tf

        x = tf.constant(x)
        with tf.GradientTape() as tape:
            if float_inputs:
                tape.watch(x)
            loss = tf.reduce_sum(tf.square(model(x)))
        sources = [w.value for w in model.trainable_weights] + ([x] if float_inputs else [])
        return [np.asarray(tf.convert_to_tensor(g)) for g in tape.gradient(loss, sources)]
    import jax
    import jax.numpy as jnp

    def loss_fn(weights, x):
        out, _ = model.stateless_call(weights, [v.value for v in model.non_trainable_variables], x)
        return jnp.sum(jnp.square(out))

    weights = [v.value for v in model.trainable_variables]
    if float_inputs:
        gw, gx = jax.grad(loss_fn, argnums=(0, 1))(weights, jnp.asarray(x))
        return [np.asarray(g) for g in gw] + [np.asarray(gx)]
    return [np.asarray(g) for g in jax.grad(loss_fn)(weights, jnp.asarray(x))]


def build_pair(kind, wrap, x, **rnn_kwargs):
    """The same network twice, with our cell and with Keras', sharing weights."""
    ours_cell, theirs_cell, _ = KINDS[kind]
    ours = keras.Sequential([keras.Input(x.shape[1:]), wrap(keras.layers.RNN(ours_cell(), **rnn_kwargs))])
    theirs = keras.Sequential([keras.Input(x.shape[1:]), wrap(keras.layers.RNN(theirs_cell(), **rnn_kwargs))])
    random_weights(ours)
    copy_weights(ours, theirs)
    return ours, theirs


def assert_all_close(a, b, atol=1e-5):
    a, b = keras.tree.flatten(a), keras.tree.flatten(b)
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_allclose(np.asarray(u), np.asarray(v), atol=atol, rtol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "rnn_kwargs",
    [{}, {"return_sequences": True}, {"return_state": True}, {"go_backwards": True, "return_sequences": True}],
    ids=["last", "sequences", "state", "backwards"],
)
def test_rnn_layer_matches_keras_cell(kind, rnn_kwargs):
    x = random_inputs()
    ours, theirs = build_pair(kind, lambda layer: layer, x, **rnn_kwargs)
    assert_all_close(ours(x), theirs(x))


@pytest.mark.parametrize("kind", KINDS)
def test_initial_state_is_used(kind):
    x = random_inputs()
    ours_cell, theirs_cell, _ = KINDS[kind]
    n_states = 2 if kind == "lstm" else 1
    init = [np.random.default_rng(5 + i).normal(size=(B, U)).astype("float32") for i in range(n_states)]
    outs = []
    for cell in (ours_cell(), theirs_cell()):
        layer = keras.layers.RNN(cell, return_sequences=True, return_state=True)
        layer(x)
        outs.append(layer)
    random_weights(outs[0])
    copy_weights(outs[0], outs[1])
    with_init = [layer(x, initial_state=init) for layer in outs]
    assert_all_close(with_init[0], with_init[1])
    without = outs[0](x)
    assert not np.allclose(np.asarray(with_init[0][0]), np.asarray(without[0]))


@pytest.mark.parametrize("kind", KINDS)
def test_bidirectional_rebuilds_from_config(kind):
    x = random_inputs()
    ours, theirs = build_pair(
        kind, lambda layer: keras.layers.Bidirectional(layer), x, return_sequences=True
    )
    assert_all_close(ours(x), theirs(x))
    bidi = ours.layers[-1]
    clone = keras.layers.Bidirectional.from_config(bidi.get_config())
    clone(x)
    clone.set_weights(bidi.get_weights())
    assert type(clone.forward_layer.cell) is type(bidi.forward_layer.cell)
    assert clone.backward_layer.go_backwards
    assert_all_close(clone(x), bidi(x))


@pytest.mark.parametrize("kind", KINDS)
def test_deep_stack_of_three(kind):
    x = random_inputs()
    ours_cell, theirs_cell, _ = KINDS[kind]

    def deep(make_cell):
        return keras.Sequential(
            [keras.Input((T, D))]
            + [keras.layers.RNN(make_cell(), return_sequences=i < 2) for i in range(3)]
        )

    ours, theirs = deep(ours_cell), deep(theirs_cell)
    random_weights(ours)
    copy_weights(ours, theirs)
    assert_all_close(ours(x), theirs(x))
    # The same depth as stacked cells inside one RNN layer.
    stacked = keras.Sequential([keras.Input((T, D)), keras.layers.RNN([ours_cell() for _ in range(3)])])
    stacked.set_weights(ours.get_weights())
    assert_all_close(stacked(x), ours(x))


def masked_tokens():
    ids = np.array([[3, 5, 2, 7, 0, 0, 0], [4, 4, 1, 0, 0, 0, 0], [9, 8, 7, 6, 5, 4, 3]])
    return ids


def masked_model(cell, return_sequences=True):
    return keras.Sequential(
        [
            keras.Input((T,), dtype="int32"),
            keras.layers.Embedding(10, D, mask_zero=True),
            keras.layers.RNN(cell, return_sequences=return_sequences),
        ]
    )


@pytest.mark.parametrize("kind", KINDS)
def test_masking_carries_state_through_padding(kind):
    ids = masked_tokens()
    ours_cell, theirs_cell, _ = KINDS[kind]
    ours, theirs = masked_model(ours_cell()), masked_model(theirs_cell())
    random_weights(ours)
    copy_weights(ours, theirs)
    seq_ours, seq_theirs = np.asarray(ours(ids)), np.asarray(theirs(ids))
    # Outputs at padded positions are exactly what Keras' own cells give ...
    np.testing.assert_allclose(seq_ours, seq_theirs, atol=1e-5)
    # ... which is the last real step's output, repeated: the state went through.
    for row, length in enumerate((ids != 0).sum(axis=1)):
        for t in range(length, T):
            np.testing.assert_allclose(seq_ours[row, t], seq_ours[row, length - 1], atol=1e-6)
    # The final output ignores the padding: same as running the unpadded prefix.
    last = masked_model(ours_cell(), return_sequences=False)
    last.set_weights(ours.get_weights())
    short = keras.Sequential([keras.Input((3,), dtype="int32")] + last.layers)
    np.testing.assert_allclose(np.asarray(last(ids))[1], np.asarray(short(ids[:, :3]))[1], atol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
def test_parity_with_keras_layers_outputs_and_gradients(kind, masked):
    ours_cell, _, keras_layer = KINDS[kind]
    if masked:
        x = masked_tokens()
        head = [keras.Input((T,), dtype="int32"), keras.layers.Embedding(10, D, mask_zero=True)]
    else:
        x = random_inputs()
        head = [keras.Input((T, D))]
    ours = keras.Sequential(head + [keras.layers.RNN(ours_cell(), return_sequences=True)])
    theirs = keras.Sequential(
        [keras.Input(head[0].shape[1:], dtype=head[0].dtype)]
        + ([keras.layers.Embedding(10, D, mask_zero=True)] if masked else [])
        + [keras_layer(return_sequences=True)]
    )
    random_weights(ours)
    copy_weights(ours, theirs)
    assert_all_close(ours(x), theirs(x), atol=1e-5)
    grads_ours, grads_theirs = gradients(ours, x), gradients(theirs, x)
    assert len(grads_ours) == len(grads_theirs) == len(ours.trainable_weights) + (not masked)
    for g_ours, g_theirs in zip(grads_ours, grads_theirs):
        np.testing.assert_allclose(g_ours, g_theirs, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cls,kwargs", [
    (MyRNNCell, {"activation": "relu", "use_bias": False, "dropout": 0.25, "recurrent_dropout": 0.5,
                 "seed": 7, "recurrent_initializer": "identity", "kernel_regularizer": "l2"}),
    (GRUCell, {"reset_after": False, "recurrent_activation": "hard_sigmoid", "dropout": 0.1,
               "recurrent_dropout": 0.2, "seed": 3, "bias_constraint": "non_neg"}),
    (LSTMCell, {"unit_forget_bias": False, "activation": "relu", "recurrent_dropout": 0.3,
                "recurrent_regularizer": "l1", "kernel_constraint": "max_norm", "seed": 1}),
])
def test_config_round_trips_every_argument(cls, kwargs):
    cell = cls(6, **kwargs)
    config = cell.get_config()
    clone = cls.from_config(config)
    assert clone.get_config() == config
    assert config["units"] == 6
    for key, value in kwargs.items():
        if isinstance(value, (int, float, bool)) and not isinstance(value, str):
            assert config[key] == value, key
    # Through Keras' generic (de)serialisation too, as Bidirectional does it.
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(cell))
    assert type(revived) is cls and revived.get_config() == config


def test_irnn_option_starts_from_identity():
    cell = MyRNNCell.irnn(U)
    layer = keras.layers.RNN(cell)
    layer(random_inputs())
    np.testing.assert_allclose(np.asarray(cell.recurrent_kernel), np.eye(U))
    assert cell.get_config()["activation"] == "relu"


def test_lstm_unit_forget_bias_starts_at_one():
    cell = LSTMCell(U)
    keras.layers.RNN(cell)(random_inputs())
    bias = np.asarray(cell.bias)
    np.testing.assert_array_equal(bias[U : 2 * U], 1.0)
    np.testing.assert_array_equal(np.delete(bias, np.s_[U : 2 * U]), 0.0)


@pytest.mark.parametrize("kind", KINDS)
def test_save_and_load_keras_file(kind, tmp_path):
    x = random_inputs()
    ours, _ = build_pair(kind, lambda layer: keras.layers.Bidirectional(layer), x, return_sequences=True)
    path = tmp_path / "m.keras"
    ours.save(path)
    loaded = keras.models.load_model(path)  # safe_mode is on by default
    assert_all_close(loaded(x), ours(x), atol=0)


def test_input_dropout_one_mask_per_sequence_only_in_training():
    # kernel = I, no recurrence: each output step is the input step times the mask.
    cell = MyRNNCell(D, activation="linear", use_bias=False, dropout=0.5, seed=11,
                     kernel_initializer="identity", recurrent_initializer="zeros")
    layer = keras.layers.RNN(cell, return_sequences=True)
    x = np.ones((B, T, D), "float32")
    trained = np.asarray(layer(x, training=True))
    dropped = trained == 0
    assert dropped.any() and (~dropped).any()
    for t in range(1, T):  # the same mask at every step ...
        np.testing.assert_array_equal(dropped[:, t], dropped[:, 0])
    np.testing.assert_allclose(trained[~dropped], 2.0)  # ... scaled by 1 / (1 - rate)
    np.testing.assert_allclose(np.asarray(layer(x, training=False)), x)
    # A new call (a new batch) draws a new mask.
    masks = {tuple(np.asarray(layer(x, training=True))[:, 0].ravel() == 0) for _ in range(5)}
    assert len(masks) > 1


def test_recurrent_dropout_one_mask_per_sequence():
    # The state is only the first input, carried by an identity recurrence:
    # with one mask per sequence the dropped units stay the same ones.
    cell = MyRNNCell(D, activation="linear", use_bias=False, recurrent_dropout=0.5, seed=2,
                     kernel_initializer="identity", recurrent_initializer="identity")
    layer = keras.layers.RNN(cell, return_sequences=True)
    x = np.zeros((B, T, D), "float32")
    x[:, 0] = 1.0
    out = np.asarray(layer(x, training=True))
    dropped = out[:, 1:] == 0
    assert dropped.any() and (~dropped).any()
    for t in range(1, T - 1):
        np.testing.assert_array_equal(dropped[:, t], dropped[:, 0])
    np.testing.assert_allclose(np.asarray(layer(x, training=False)), np.ones_like(x) * (x[:, :1] > 0))


# Every cell trains with dropout; clipnorm and clipvalue alternate between them.
@pytest.mark.parametrize("kind,clip", [
    ("rnn", {"clipnorm": 1.0}), ("gru_reset_after", {"clipvalue": 0.5}),
    ("gru_reset_before", {"clipnorm": 1.0}), ("lstm", {"clipvalue": 0.5}),
])
def test_training_with_clipping_and_dropout(kind, clip):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, T, D)).astype("float32")
    y = (x[:, :, 0].sum(axis=1) > 0).astype("float32")
    keras.utils.set_random_seed(0)
    cell = KINDS[kind][0](dropout=0.1, recurrent_dropout=0.1, seed=0)
    model = keras.Sequential([
        keras.Input((T, D)),
        keras.layers.Bidirectional(keras.layers.RNN(cell)),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(keras.optimizers.Adam(0.05, **clip), "binary_crossentropy")
    before = model.evaluate(x, y, verbose=0)
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    after = model.evaluate(x, y, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert after < before * 0.8, (before, after)


@pytest.mark.tf_only
def test_export_serves_in_a_process_without_our_code(tmp_path):
    from tests.isolated import run_isolated

    ids = masked_tokens()
    expected = {}
    for kind, (cell, _, _) in KINDS.items():
        model = keras.Sequential([
            keras.Input((T,), dtype="int32"),
            keras.layers.Embedding(10, D, mask_zero=True),
            keras.layers.Bidirectional(keras.layers.RNN(cell(), return_sequences=True)),
        ])
        random_weights(model)
        expected[kind] = np.asarray(model(ids))
        model.export(str(tmp_path / kind), verbose=False)
    served = run_isolated(
        f"""
        import json, numpy as np, tensorflow as tf
        ids = tf.constant({ids.tolist()}, dtype=tf.int32)
        models = {{k: tf.saved_model.load(k) for k in {list(KINDS)!r}}}  # kept alive while they run
        print(json.dumps({{k: np.asarray(m.serve(ids)).tolist() for k, m in models.items()}}))
        """,
        cwd=tmp_path,
    )
    for kind in KINDS:
        np.testing.assert_allclose(np.array(served[kind]), expected[kind], atol=1e-6)


# layers.RNN: the input projection hoisted out of the loop, otherwise keras.layers.RNN.

def _fast_and_plain(kind, head, **rnn_kwargs):
    import layers

    ours_cell, _, _ = KINDS[kind]
    fast = keras.Sequential(head() + [layers.RNN(ours_cell(), **rnn_kwargs)])
    plain = keras.Sequential(head() + [keras.layers.RNN(ours_cell(), **rnn_kwargs)])
    random_weights(fast)
    copy_weights(fast, plain)
    return fast, plain


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "rnn_kwargs",
    [{"return_sequences": True}, {"return_state": True}, {"go_backwards": True, "return_sequences": True}],
    ids=["sequences", "state", "backwards"],
)
def test_fast_rnn_equals_keras_rnn_outputs_and_gradients(kind, rnn_kwargs):
    x = random_inputs()
    fast, plain = _fast_and_plain(kind, lambda: [keras.Input((T, D))], **rnn_kwargs)
    assert_all_close(fast(x), plain(x), atol=1e-6)
    if not rnn_kwargs.get("return_state"):
        assert_all_close(gradients(fast, x), gradients(plain, x), atol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_fast_rnn_masks_like_keras_rnn(kind):
    ids = masked_tokens()
    head = lambda: [keras.Input((T,), dtype="int32"), keras.layers.Embedding(10, D, mask_zero=True)]  # noqa: E731
    fast, plain = _fast_and_plain(kind, head, return_sequences=True)
    np.testing.assert_allclose(np.asarray(fast(ids)), np.asarray(plain(ids)), atol=1e-6)
    # Padded positions repeat the last real step (the mask reached the loop).
    out = np.asarray(fast(ids))
    np.testing.assert_allclose(out[1, 3:], np.repeat(out[1, 2:3], T - 3, axis=0), atol=1e-6)


@pytest.mark.tf_only
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("rnn_kwargs", [{}, {"go_backwards": True}], ids=["forwards", "backwards"])
def test_fast_rnn_in_a_graph_of_known_batch_and_unknown_length(kind, rnn_kwargs):
    """As a tf.function with reduce_retracing traces batches of one size and many lengths: every step runs."""
    import tensorflow as tf

    x = random_inputs()  # [B, T, D] with T > B: the loop must not stop after B steps
    fast, plain = _fast_and_plain(kind, lambda: [keras.Input((None, D))], return_sequences=True, **rnn_kwargs)
    graph = tf.function(lambda inputs: fast(inputs), input_signature=[tf.TensorSpec([B, None, D])])
    assert_all_close(graph(x), plain(x), atol=1e-6)
    retraced = tf.function(lambda inputs: fast(inputs), reduce_retracing=True)
    for length in (T, T - 2, T - 1):  # the second call generalises the length to None
        assert_all_close(retraced(x[:, :length]), plain(x[:, :length]), atol=1e-6)


def test_fast_rnn_dropout_masks_are_per_sequence_and_training_only():
    import layers

    x = np.ones((2, T, D), "float32")
    fast = layers.RNN(GRUCell(U, dropout=0.5, seed=4), return_sequences=True)
    plain = keras.layers.RNN(GRUCell(U, dropout=0.5, seed=4), return_sequences=True)
    fast(x), plain(x)
    plain.set_weights(fast.get_weights())
    np.testing.assert_allclose(np.asarray(fast(x)), np.asarray(plain(x)), atol=1e-6)  # inference: no dropout
    # Same seed, same single mask per sequence: the same outputs as the per-step loop in training too.
    np.testing.assert_allclose(np.asarray(fast(x, training=True)), np.asarray(plain(x, training=True)), atol=1e-6)
    assert not np.allclose(np.asarray(fast(x, training=True)), np.asarray(fast(x)))


def test_fast_rnn_in_bidirectional_saves_and_reloads(tmp_path):
    import layers

    x = random_inputs()
    model = keras.Sequential([keras.Input((T, D)),
                              keras.layers.Bidirectional(layers.RNN(LSTMCell(U), return_sequences=True))])
    random_weights(model)
    assert type(model.layers[0].backward_layer) is layers.RNN  # rebuilt from config as our class
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-6)


@pytest.mark.parametrize("hidden_units", [0, 6])
def test_autoregressive_output_is_a_normalised_joint_over_all_configurations(hidden_units):
    """Sum over all 2^K vectors of prod_k p_k^x_k (1 - p_k)^(1 - x_k) is 1 only if key k never sees x_k or later."""
    import itertools

    from layers.autoregressive import AutoregressiveBernoulli

    keys, contexts = 4, np.random.default_rng(0).normal(size=(3, 5)).astype("float32")
    configurations = np.array(list(itertools.product([0.0, 1.0], repeat=keys)), "float32")  # [16, K]
    context = np.repeat(contexts[:, None], len(configurations), axis=1)
    observed = np.broadcast_to(configurations, (3,) + configurations.shape)
    layer = AutoregressiveBernoulli(hidden_units, activation="tanh")
    layer([context, observed])
    random_weights(layer)  # the direct kernel starts at zero: give every path a weight
    probs = np.asarray(layer([context, observed]))
    joint = np.prod(np.where(observed == 1, probs, 1 - probs), axis=-1)
    np.testing.assert_allclose(joint.sum(axis=-1), np.ones(3), rtol=1e-5)
    # Flipping key j moves no probability of keys up to j, and (with these weights) some above it.
    for j in range(keys - 1):
        flipped = observed.copy()
        flipped[..., j] = 1 - flipped[..., j]
        moved = np.abs(np.asarray(layer([context, flipped])) - probs).max(axis=(0, 1))
        assert moved[:j + 1].max() == 0 and moved[j + 1:].max() > 1e-4, (j, moved)


def test_autoregressive_output_saves_reloads_and_samples(tmp_path):
    from layers.autoregressive import AutoregressiveBernoulli

    layer = AutoregressiveBernoulli(5, activation="tanh", dropout=0.25, seed=3, name="joint")
    assert AutoregressiveBernoulli.from_config(layer.get_config()).get_config() == layer.get_config()
    context_in, observed_in = keras.Input((None, 4)), keras.Input((None, 6))
    model = keras.Model([context_in, observed_in], layer([context_in, observed_in]))
    random_weights(model)
    rng = np.random.default_rng(1)
    context = rng.normal(size=(2, 3, 4)).astype("float32")
    observed = (rng.random((2, 3, 6)) < 0.5).astype("float32")
    model.save(tmp_path / "joint.keras")
    reloaded = keras.models.load_model(tmp_path / "joint.keras")
    np.testing.assert_allclose(np.asarray(reloaded([context, observed])), np.asarray(model([context, observed])),
                               rtol=1e-6)
    assert not np.allclose(np.asarray(model([context, observed], training=True)),
                           np.asarray(model([context, observed])))  # dropout only when training
    draws = np.asarray(layer.sample(context, seed=7))
    assert draws.shape == (2, 3, 6) and set(np.unique(draws)) <= {0.0, 1.0}
    np.testing.assert_array_equal(draws, np.asarray(layer.sample(context, seed=7)))
    # A huge logit for key 0 makes it sound in every draw; key 0 sees no other key, so this is exact.
    weights = layer.get_weights()
    names = [w.path.split("/")[-1] for w in layer.weights]
    weights[names.index("output_bias")][0] = 50.0
    layer.set_weights(weights)
    assert np.asarray(layer.sample(context, seed=8))[..., 0].min() == 1.0
