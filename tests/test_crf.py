"""The CRF against brute-force enumeration of every tag path."""

import itertools

import numpy as np
import pytest

import keras

from layers.crf import CRF, CRFLoss, ensemble_decode

K, T = 3, 4


def make_crf(seed=0):
    crf = CRF(K)
    crf.build((None, None, K))
    rng = np.random.default_rng(seed)
    crf.set_weights([rng.normal(size=w.shape).astype("float32") for w in crf.get_weights()])
    return crf


def path_score(crf, emissions, path):
    trans, start, end = (np.asarray(w) for w in (crf.transitions, crf.start_scores, crf.end_scores))
    score = start[path[0]] + end[path[-1]] + sum(emissions[t, tag] for t, tag in enumerate(path))
    return score + sum(trans[a, b] for a, b in zip(path, path[1:]))


def brute_force(crf, emissions, length):
    paths = list(itertools.product(range(K), repeat=length))
    scores = np.array([path_score(crf, emissions[:length], p) for p in paths])
    log_z = np.logaddexp.reduce(scores)
    return paths, scores, log_z


@pytest.fixture
def batch():
    rng = np.random.default_rng(1)
    emissions = rng.normal(size=(3, T, K)).astype("float32")
    lengths = [4, 2, 1]
    mask = np.arange(T)[None, :] < np.array(lengths)[:, None]
    tags = rng.integers(0, K, size=(3, T))
    return emissions, mask, tags, lengths


def test_log_likelihood_matches_enumeration(batch):
    emissions, mask, tags, lengths = batch
    crf = make_crf()
    ll = np.asarray(crf.log_likelihood(emissions, tags, mask))
    for b, length in enumerate(lengths):
        _, _, log_z = brute_force(crf, emissions[b], length)
        expected = path_score(crf, emissions[b], list(tags[b, :length])) - log_z
        np.testing.assert_allclose(ll[b], expected, atol=1e-4)


def test_viterbi_finds_the_best_path(batch):
    emissions, mask, _, lengths = batch
    crf = make_crf()
    decoded = np.asarray(crf.decode(emissions, mask))
    for b, length in enumerate(lengths):
        paths, scores, _ = brute_force(crf, emissions[b], length)
        assert tuple(decoded[b, :length]) == paths[int(np.argmax(scores))]
        assert (decoded[b, length:] == 0).all()


def test_padding_values_do_not_matter(batch):
    emissions, mask, tags, _ = batch
    crf = make_crf()
    noisy = emissions.copy()
    noisy[~mask] = 50.0
    np.testing.assert_allclose(np.asarray(crf.log_likelihood(noisy, tags, mask)),
                               np.asarray(crf.log_likelihood(emissions, tags, mask)), atol=1e-5)
    np.testing.assert_array_equal(np.asarray(crf.decode(noisy, mask)), np.asarray(crf.decode(emissions, mask)))


def test_training_learns_a_transition_rule():
    # Tag 2 may only follow tag 1; emissions alone cannot tell 1 from 2.
    rng = np.random.default_rng(0)
    n, steps = 256, 6
    x = rng.integers(0, 2, size=(n, steps))
    y = np.where(x == 0, 0, 1)
    y[:, 1:] = np.where((x[:, 1:] == 1) & (x[:, :-1] == 1), 2, y[:, 1:])  # a 1 after a 1 is tag 2
    keras.utils.set_random_seed(0)
    inputs = keras.Input((steps,), dtype="int32")
    emissions = keras.layers.Dense(K)(keras.layers.Embedding(2, 4)(inputs))
    crf = CRF(K)
    model = keras.Model(inputs, crf(emissions))
    model.compile(keras.optimizers.Adam(0.05), loss=CRFLoss(crf))
    model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    decoded = np.asarray(crf.decode(model.predict(x, verbose=0)))
    assert (decoded == y).mean() > 0.98


def test_config_round_trip():
    crf = CRF(5, name="crf")
    assert CRF.from_config(crf.get_config()).get_config() == crf.get_config()
    loss = CRFLoss(crf, name="tagging_loss")
    again = CRFLoss.from_config(loss.get_config())
    assert again.get_config() == loss.get_config() and again.crf.num_tags == 5 and again.name == "tagging_loss"
    assert CRFLoss.from_config(CRFLoss().get_config()).crf is None


def test_one_step_and_empty_sequences():
    crf = make_crf()
    emissions = np.random.default_rng(3).normal(size=(2, 1, K)).astype("float32")
    mask = np.array([[True], [False]])
    decoded = np.asarray(crf.decode(emissions, mask))
    assert decoded.shape == (2, 1)
    paths, scores, log_z = brute_force(crf, emissions[0], 1)
    assert decoded[0, 0] == paths[int(np.argmax(scores))][0] and decoded[1, 0] == 0
    ll = np.asarray(crf.log_likelihood(emissions, np.array([[1], [0]]), mask))
    np.testing.assert_allclose(ll[0], path_score(crf, emissions[0], [1]) - log_z, atol=1e-4)
    assert ll[1] == 0.0


def test_ensemble_decodes_the_best_path_of_the_mean_scores(batch):
    emissions, mask, _, lengths = batch
    members = [make_crf(seed) for seed in (0, 1, 2)]
    stacked = np.stack([emissions, np.roll(emissions, 1, axis=-1), 2 * emissions[::-1]], axis=2)  # [B, T, M, K]
    mean = make_crf()
    mean.set_weights([np.mean(weights, axis=0) for weights in zip(*(crf.get_weights() for crf in members))])
    decoded = np.asarray(ensemble_decode(members, stacked, mask))
    for b, length in enumerate(lengths):
        paths, scores, _ = brute_force(mean, stacked[b].mean(axis=1), length)
        assert tuple(decoded[b, :length]) == paths[int(np.argmax(scores))]
        assert (decoded[b, length:] == 0).all()
    # Not a member's own path: the three members disagree on some sentence.
    alone = [np.asarray(crf.decode(stacked[:, :, m], mask)) for m, crf in enumerate(members)]
    assert any((alone[m] != alone[0]).any() for m in (1, 2))


def test_ensemble_loss_is_the_sum_of_the_members_losses(batch):
    emissions, mask, tags, _ = batch
    members = [make_crf(seed) for seed in (0, 1)]
    gold = np.where(mask, tags, -1)
    stacked = np.stack([emissions, -emissions], axis=2)
    together = np.asarray(CRFLoss(members).call(gold, stacked))
    apart = sum(np.asarray(CRFLoss(crf).call(gold, stacked[:, :, m])) for m, crf in enumerate(members))
    np.testing.assert_allclose(together, apart, rtol=1e-6)
    again = CRFLoss.from_config(CRFLoss(members, name="members").get_config())
    assert [crf.num_tags for crf in again.crf] == [K, K] and again.name == "members"


def test_stack_puts_members_on_a_new_axis_drops_the_mask_and_round_trips():
    from layers import Stack

    ids = keras.Input((None,), dtype="int32")
    embedded = [keras.layers.Embedding(5, 3, mask_zero=True)(ids) for _ in range(2)]  # masked [B, T, 3]
    stacked = Stack(axis=2, name="members")(embedded)
    assert tuple(stacked.shape) == (None, None, 2, 3)
    model = keras.Model(ids, stacked)
    x = np.array([[1, 2, 0]])
    out = np.asarray(model(x))
    np.testing.assert_allclose(out[:, :, 1], np.asarray(model.layers[2](x)))
    layer = model.get_layer("members")
    mask = np.array([[True, True, False]])
    assert layer.compute_mask(embedded, [mask, mask]) is None  # the members' losses handle padding themselves
    assert Stack.from_config(layer.get_config()).get_config() == layer.get_config() and layer.axis == 2
