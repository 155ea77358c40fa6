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


@pytest.mark.tf_only
def test_naive_bayes_counts_each_ngram_once_per_text_and_gives_wang_and_mannings_ratios():
    import tensorflow as tf

    from layers.ngrams import naive_bayes_log_ratios, ngram_class_counts

    bag = _bag(2, vocabulary_size=6, buckets=7)
    texts = [([1, 2, 2, 0], 1), ([3, 1, 0, 0], 0), ([1, 2, 0, 0], 1)]
    batches = [(tf.constant([t for t, _ in texts[:2]], tf.int64), tf.constant([1.0, 0.0])),
               (tf.constant([texts[2][0]], tf.int64), tf.constant([1.0]))]
    counts = ngram_class_counts(bag, batches)
    expected = np.zeros((6 + 7, 2))
    for ids, label in texts:
        real = [i for i in ids if i]
        rows = set(real) | {6 + (a * 1_000_003 + b) % 7 for a, b in zip(real, real[1:])}
        for row in rows:  # once per text, however often it occurs ("2 2" has the word 2 twice)
            expected[row, label] += 1
    np.testing.assert_array_equal(counts, expected)
    ratios = naive_bayes_log_ratios(counts, alpha=1.0)
    p, q = expected[:, 1] + 1, expected[:, 0] + 1
    by_hand = np.log(p / p.sum()) - np.log(q / q.sum())
    seen = expected.sum(axis=1) > 0
    np.testing.assert_allclose(ratios[seen], by_hand[seen])
    assert not ratios[~seen].any() and ratios[2] > 0 > ratios[3]  # word 2 only in positive texts, 3 in negative


@pytest.mark.tf_only
def test_the_sentiment_bag_starts_as_naive_bayes(tmp_path):
    import json

    import tensorflow as tf
    from click.testing import CliRunner

    from apps.common.options import RunOptions
    from apps.sentiment.cli import cli
    from apps.sentiment.config import DEFAULTS
    from apps.sentiment.model import build_model, naive_bayes_start
    from layers.ngrams import naive_bayes_log_ratios, ngram_class_counts
    from tests.fixtures import SENTIMENT_SMALL, sentiment_rows, write_jsonl

    options = RunOptions({**DEFAULTS, "ngram_buckets": 64, "units": 4, "embedding_dim": 4, "ngram_init": "naive-bayes"})
    model = build_model(options, 20)
    batches = [(tf.constant([[3, 4, 5], [6, 7, 0]], tf.int64), tf.constant([1.0, 0.0]))]
    ratios = naive_bayes_start(model, options, train=batches)
    bag = model.get_layer("ngram_logit")
    np.testing.assert_allclose(bag.table.numpy()[:, 0], ratios / options.ngram_scale, rtol=1e-6)
    np.testing.assert_allclose(ratios, naive_bayes_log_ratios(ngram_class_counts(bag, batches)))
    # its logit before any training: the naive-Bayes score of the text's n-grams over their square root
    logit = float(model(tf.constant([[3, 4, 5]], tf.int64))[0, -1])
    rows = [3, 4, 5] + [20 + (a * 1_000_003 + b) % 64 for a, b in ((3, 4), (4, 5))] + \
        [20 + (((3 * 1_000_003 + 4) % 64) * 1_000_003 + 5) % 64]
    assert logit == pytest.approx(ratios[rows].sum() / np.sqrt(len(rows)), rel=1e-5)

    data = write_jsonl(tmp_path / "train.jsonl", sentiment_rows(120, seed=0))
    result = CliRunner().invoke(cli, ["train", "--run-dir", str(tmp_path / "run"), "--train-file", data,
                                      "--epochs", "1", "--ngram-init", "naive-bayes", *SENTIMENT_SMALL])
    assert result.exit_code == 0, result.output
    assert "counting the n-grams of the training texts" in result.output
    assert json.loads((tmp_path / "run" / "config.json").read_text())["options"]["ngram_init"] == "naive-bayes"
