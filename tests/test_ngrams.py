"""HashedNgramBag: the n-gram features of the sentiment app, checked by hand."""

import numpy as np
import pytest
import keras

from layers import HashedNgramBag


def _bag(order, vocabulary_size=10, buckets=7, **kwargs):
    bag = HashedNgramBag(vocabulary_size, order=order, buckets=buckets, output_dim=2, **kwargs)
    bag.build((None, None))
    bag.table.assign(np.random.default_rng(0).normal(size=bag.table.shape).astype("float32"))
    return bag


def test_order_one_is_the_scaled_sum_of_the_word_rows():
    bag = _bag(1, scale=3.0)
    table = bag.table.numpy()
    got = keras.ops.convert_to_numpy(bag(np.array([[4, 5, 6, 0, 0]])))
    assert np.allclose(got[0], 3.0 * table[[4, 5, 6]].sum(0) / np.sqrt(3), atol=1e-6)


def test_bigrams_by_hand_and_padding_never_counts():
    bag = _bag(2)
    table = bag.table.numpy()
    rows = [4, 5, 6, 10 + (4 * 1_000_003 + 5) % 7, 10 + (5 * 1_000_003 + 6) % 7]  # 3 words, 2 bigrams
    expected = table[rows].sum(0) / np.sqrt(5)
    short = keras.ops.convert_to_numpy(bag(np.array([[4, 5, 6]])))
    padded = keras.ops.convert_to_numpy(bag(np.array([[4, 5, 6, 0, 0, 0]])))
    assert np.allclose(short[0], expected, atol=1e-6) and np.allclose(padded, short, atol=1e-6)


def test_trigrams_extend_bigrams_and_differ_from_them():
    bag = _bag(3, buckets=1000)
    rows, kept = (keras.ops.convert_to_numpy(t) for t in bag.ngram_ids(np.array([[2, 3, 4, 0]])))
    bigram_23 = (2 * 1_000_003 + 3) % 1000
    trigram = (bigram_23 * 1_000_003 + 4) % 1000
    assert rows[0, 2, 2] == 10 + trigram and kept[0, 2].all()
    assert kept[0].sum() == 3 + 2 + 1  # words, bigrams, trigrams; none at padding or before the start
    assert not kept[0, 3].any() and not kept[0, 0, 1:].any()


def test_an_empty_row_gives_zeros_and_dropout_only_in_training():
    bag = _bag(2, rate=0.5, seed=3)
    assert np.all(keras.ops.convert_to_numpy(bag(np.zeros((1, 4), "int64"))) == 0)
    ids = np.arange(2, 10)[None]
    assert np.allclose(bag(ids, training=False), bag(ids, training=False))
    assert not np.allclose(bag(ids, training=True), bag(ids, training=False))


@pytest.mark.parametrize("kwargs", [dict(order=3, buckets=50, output_dim=4, rate=0.25, scale=5.0, seed=7)])
def test_config_round_trips_every_argument(kwargs, tmp_path):
    bag = HashedNgramBag(12, **kwargs)
    config = bag.get_config()
    assert {k: config[k] for k in kwargs} == kwargs and config["vocabulary_size"] == 12
    assert HashedNgramBag.from_config(config).get_config() == config
    model = keras.Sequential([keras.Input((None,), dtype="int64"), bag])
    bag.table.assign(np.random.default_rng(1).normal(size=bag.table.shape).astype("float32"))
    model.save(tmp_path / "bag.keras")
    revived = keras.models.load_model(tmp_path / "bag.keras")
    ids = np.array([[3, 4, 5, 0]])
    expected = model.predict(ids, verbose=0)
    assert np.abs(expected).max() > 0.1 and np.allclose(revived.predict(ids, verbose=0), expected)

