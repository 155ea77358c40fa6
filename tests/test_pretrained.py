"""--embeddings: pretrained word vectors read, aligned to the vocabulary and loaded, with their coverage."""

import gzip

import numpy as np
import pytest
from click.testing import CliRunner

from apps.common.options import RunOptions
from apps.common.pretrained import word_vectors
from datasets.embeddings import aligned_vectors
from datasets.errors import DataError
from tests.fixtures import NER_SMALL, SENTIMENT_SMALL, ner_sentences, sentiment_rows, write_conll, write_jsonl

VOCABULARY = ["", "[UNK]", "film", "Paris", "new york", "great", "zzz"]


def _vectors_file(path, lines, header=None):
    text = "".join(f"{line}\n" for line in ([header] if header else []) + lines)
    (gzip.open(path, "wt") if str(path).endswith(".gz") else open(path, "w")).write(text)
    return str(path)


def test_words_found_as_they_are_then_lower_cased_and_the_rest_kept(tmp_path):
    path = _vectors_file(tmp_path / "v.txt.gz", ["film 1 2 3", "paris 4 5 6", "new york 7 8 9", "Great 0 0 1",
                                                 "great 9 9 9", "other 1 1 1"], header="6 3")
    initial = np.full((len(VOCABULARY), 3), -1.0, "float32")
    matrix, coverage = aligned_vectors(path, VOCABULARY, initial)
    assert matrix[2].tolist() == [1, 2, 3] and matrix[3].tolist() == [4, 5, 6]  # Paris from "paris"
    assert matrix[4].tolist() == [7, 8, 9]  # a word with a space, as in GloVe 840B
    assert matrix[5].tolist() == [9, 9, 9]  # "great" as it is; "Great" is not the vocabulary's word
    assert matrix[6].tolist() == matrix[0].tolist() == matrix[1].tolist() == [-1, -1, -1]
    assert (coverage.exact, coverage.folded, coverage.missing, coverage.file_words) == (3, 1, 1, 6)
    assert "4 of 5 vocabulary words covered (80.0%" in coverage.summary(path)


@pytest.mark.parametrize("line, message", [("film 1 2", "2 values, but the embedding has 3 dimensions"),
                                           ("film 1 x 3", "the vector of 'film' is not 3 numbers")])
def test_a_bad_line_is_named(tmp_path, line, message):
    path = _vectors_file(tmp_path / "v.txt", ["great 1 2 3", line])
    with pytest.raises(DataError, match=f"v.txt:2: {message}"):
        aligned_vectors(path, VOCABULARY, np.zeros((len(VOCABULARY), 3), "float32"))


def test_initialize_loads_the_rows_into_the_named_layer(tmp_path):
    import keras

    path = _vectors_file(tmp_path / "v.txt", ["film 1 2 3", "great 4 5 6"])
    ids = keras.Input((None,), dtype="int64")
    branches = [keras.layers.Embedding(7, 3, name=name)(ids) for name in ("emb", "emb_1", "emb_extra")]
    model = keras.Model(ids, branches)
    before = {name: model.get_layer(name).embeddings.numpy() for name in ("emb", "emb_1", "emb_extra")}
    coverage = word_vectors("emb", "tokens")(model, RunOptions(embeddings=path), {"tokens": VOCABULARY})
    for name in ("emb", "emb_1"):  # every branch's embedding, each over its own random start
        after = model.get_layer(name).embeddings.numpy()
        assert after[2].tolist() == [1, 2, 3] and after[5].tolist() == [4, 5, 6]
        assert np.array_equal(after[[0, 1, 3, 4, 6]], before[name][[0, 1, 3, 4, 6]])
    assert np.array_equal(model.get_layer("emb_extra").embeddings.numpy(), before["emb_extra"])
    assert coverage.exact == 2
    assert word_vectors("emb", "tokens")(model, RunOptions(embeddings=None), {"tokens": VOCABULARY}) is None


def _train(cli, *args):
    return CliRunner().invoke(cli, ["train", *[str(a) for a in args]], catch_exceptions=False)


def test_sentiment_and_ner_train_from_vectors_and_report_coverage(tmp_path):
    from apps.ner.cli import cli as ner
    from apps.sentiment.cli import cli as sentiment

    rows = sentiment_rows(60, seed=0)
    words = sorted({w for r in rows for w in r["text"].lower().split()})
    vectors = _vectors_file(tmp_path / "v.txt", [f"{w} " + " ".join(["0.5"] * 8) for w in words[:5]])
    result = _train(sentiment, "--run-dir", tmp_path / "s", "--train-file", write_jsonl(tmp_path / "s.jsonl", rows),
                    "--epochs", 1, "--embeddings", vectors, *SENTIMENT_SMALL)
    assert result.exit_code == 0 and "5 of " in result.output and f"{vectors}: 5 vectors" in result.output
    sentences = write_conll(tmp_path / "n.txt", ner_sentences(40, seed=0))
    wrong = _vectors_file(tmp_path / "w.txt", ["the 1 2 3"])
    result = _train(ner, "--run-dir", tmp_path / "n", "--train-file", sentences, "--epochs", 1,
                    "--embeddings", wrong, *NER_SMALL)
    assert result.exit_code != 0 and f"{wrong}:1: 3 values, but the embedding has 16 dimensions" in result.output
    _vectors_file(wrong, ["the " + " ".join(["1"] * 16)])  # fixed in place: the same command now trains from it
    result = _train(ner, "--run-dir", tmp_path / "n", "--train-file", sentences, "--epochs", 1,
                    "--embeddings", wrong, *NER_SMALL)
    assert result.exit_code == 0 and f"{wrong}: 1 vectors; 1 of " in result.output
