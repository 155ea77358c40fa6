"""apps.ner: reader, scheme, and the CLI end to end on made-up sentences."""

import json

import pytest
from click.testing import CliRunner

from apps.ner.cli import cli
from apps.ner.serving import character_spans
from datasets.conll import read_conll, to_iob2
from datasets.errors import DataError
from tests.fixtures import NER_SMALL, ner_sentences, write_conll


def test_reader_handles_docstart_whitespace_separators_and_prefixes(tmp_path):
    path = tmp_path / "a.conll"
    path.write_text("-DOCSTART- -X- O O\n\nen:EU\tB-ORG\nen:rejects\tO\n\t\nen:Peter\tB-PER\n   \n\nen:Blackburn\tB-LOC\n")
    sentences = read_conll(str(path), token_prefix="en:")
    assert [(s[0], s[1]) for s in sentences] == [
        (["EU", "rejects"], ["B-ORG", "O"]), (["Peter"], ["B-PER"]), (["Blackburn"], ["B-LOC"])]
    assert [s[2] for s in sentences] == [3, 6, 9]


@pytest.mark.parametrize("content,message", [
    ("EU NNP B-ORG\nrejects VBZ Q-LOC\n", "bad.txt:2: tag 'Q-LOC' is not O, B-TYPE or I-TYPE"),
    ("EU NNP B-ORG\nrejects O\n", "bad.txt:2: expected 3 columns, found 2"),
    ("-DOCSTART- -X- O O\n\n", "bad.txt: no sentences"),
    ("EU\n", "bad.txt:1: expected at least two columns"),
])
def test_reader_errors_name_file_and_line(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        read_conll(str(path))


def test_tag_column_option(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("EU B-ORG NNP\n")
    assert read_conll(str(path), tag_column=1)[0][1] == ["B-ORG"]


def test_iob1_to_iob2():
    assert to_iob2(["I-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-LOC", "I-ORG"]) == \
        ["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC", "B-ORG"]
    iob2 = ["B-PER", "I-PER", "O", "B-LOC"]
    assert to_iob2(iob2) == iob2


def test_character_spans():
    text = "Harry Potter and Hermione Granger invented a new spell."
    tokens = ["Harry", "Potter", "and", "Hermione", "Granger", "invented", "a", "new", "spell", "."]
    spans = character_spans(text, tokens)
    assert text[spans[3][0]:spans[4][1]] == "Hermione Granger" and spans[-1] == (54, 55)


SMALL = NER_SMALL


@pytest.fixture
def trained(ner_trained):
    return ner_trained


@pytest.mark.tf_only
def test_train_records_scheme_and_learns(trained):
    _, run_dir, valid = trained
    options = json.loads((run_dir / "config.json").read_text())["options"]
    assert options["source_scheme"] == "IOB1" and options["scheme"] == "IOB2"
    assert options["tags"] == ["O", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-PER", "I-PER"]
    result = CliRunner().invoke(cli, ["evaluate", "--run-dir", str(run_dir), "--test-file", valid])
    assert result.exit_code == 0, result.output
    assert "FB1" in result.output and "PER:" in result.output
    scores = json.loads((run_dir / "evaluation.json").read_text())
    assert scores["f1"] > 0.9, scores  # the made-up task is easy
    assert set(scores["per_type"]) == {"LOC", "ORG", "PER"}


@pytest.mark.tf_only
def test_predict_prints_tags_and_entity_spans(trained):
    _, run_dir, _ = trained
    text = "Harry Potter lives in Paris ."
    result = CliRunner().invoke(cli, ["predict", "--run-dir", str(run_dir), text])
    assert result.exit_code == 0, result.output
    assert "Harry\tB-PER" in result.output and "Paris\tB-LOC" in result.output
    assert "PER\tHarry Potter\t0\t12" in result.output and "LOC\tParis\t22\t27" in result.output


@pytest.mark.tf_only
def test_softmax_output_trains_and_unknown_types_are_refused(tmp_path):
    train = write_conll(tmp_path / "train.txt", ner_sentences(60, seed=2))
    valid = tmp_path / "valid.txt"
    valid.write_text("Zorg B-ALIEN\nlands O\n")
    result = CliRunner().invoke(cli, ["train", "--run-dir", str(tmp_path / "r"), "--train-file", train,
                                      "--valid-file", str(valid), "--epochs", "1", *SMALL])
    assert result.exit_code != 0 and "valid.txt:1: entity type of 'B-ALIEN'" in result.output
    assert not (tmp_path / "r").exists()
    # The softmax output (no CRF) learns the made-up task too.
    train = write_conll(tmp_path / "train.txt", ner_sentences(200, seed=2))
    valid = write_conll(tmp_path / "v.txt", ner_sentences(40, seed=3))
    result = CliRunner().invoke(cli, ["train", "--run-dir", str(tmp_path / "s"), "--train-file", train,
                                      "--valid-file", valid, "--output", "softmax", "--no-char-features",
                                      "--cell", "gru", "--epochs", "6", *SMALL], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["evaluate", "--run-dir", str(tmp_path / "s"), "--test-file", valid])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "s" / "evaluation.json").read_text())["f1"] > 0.8


@pytest.mark.tf_only
def test_recurrent_dropout_reaches_both_directions_of_every_layer_in_training_only():
    import keras
    import numpy as np

    from apps.ner.config import DEFAULTS
    from apps.ner.model import build_model

    options = {**DEFAULTS, "units": 4, "word_dim": 4, "char_features": False, "layers": 2, "dropout": 0.0,
               "word_dropout": 0.0, "recurrent_dropout": 0.3}
    model = build_model(options, num_words=20, num_chars=10, num_tags=5)
    cells = [direction.cell for layer in model.layers if isinstance(layer, keras.layers.Bidirectional)
             for direction in (layer.forward_layer, layer.backward_layer)]
    assert len(cells) == 4 and all(cell.recurrent_dropout == 0.3 for cell in cells)
    inputs = {"words": np.arange(2, 14).reshape(2, 6), "chars": np.zeros((2, 6, 3), "int64")}
    np.testing.assert_allclose(model(inputs, training=False), model(inputs, training=False))
    # Every other dropout is off: only the recurrent masks can make two training passes differ.
    assert not np.allclose(model(inputs, training=True), model(inputs, training=True))
