"""apps.ner: reader, scheme, and the CLI end to end on made-up sentences."""

import json

import pytest
from click.testing import CliRunner

from apps.ner.cli import cli
from apps.ner.config import DEFAULTS
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


def test_summary_names_a_conversion_only_when_there_was_one():
    from apps.common.options import RunOptions
    from apps.ner.data import _scheme

    assert _scheme(RunOptions(source_scheme="IOB1")) == "IOB1 converted to IOB2"
    assert _scheme(RunOptions(source_scheme="IOB2")) == "IOB2"


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
               "word_dropout": 0.0, "recurrent_dropout": 0.3, "ensemble": 1}
    model = build_model(options, num_words=20, num_chars=10, num_tags=5)
    cells = [direction.cell for layer in model.layers if isinstance(layer, keras.layers.Bidirectional)
             for direction in (layer.forward_layer, layer.backward_layer)]
    assert len(cells) == 4 and all(cell.recurrent_dropout == 0.3 for cell in cells)
    inputs = {"words": np.arange(2, 14).reshape(2, 6), "chars": np.zeros((2, 6, 3), "int64")}
    np.testing.assert_allclose(model(inputs, training=False), model(inputs, training=False))
    # Every other dropout is off: only the recurrent masks can make two training passes differ.
    assert not np.allclose(model(inputs, training=True), model(inputs, training=True))


def _tiny_options(**changes):
    from apps.ner.config import DEFAULTS

    return {**DEFAULTS, "units": 4, "word_dim": 4, "char_dim": 3, "char_filters": 5, "dropout": 0.0,
            "word_dropout": 0.0, "recurrent_dropout": 0.0, "ensemble": 1, **changes}


@pytest.mark.tf_only
def test_the_default_ensemble_spreads_word_dropout_over_its_members():
    from apps.ner.model import build_model

    options = _tiny_options(ensemble=DEFAULTS["ensemble"], word_dropout=DEFAULTS["word_dropout"])
    model = build_model(options, num_words=20, num_chars=10, num_tags=5)
    names = ["word_dropout", "word_dropout_1", "word_dropout_2"]
    assert [model.get_layer(name).rate for name in names] == [0.5, 0.6, 0.7]
    single = build_model({**options, "ensemble": 1}, num_words=20, num_chars=10, num_tags=5)
    assert single.get_layer("word_dropout").rate == 0.5


@pytest.mark.tf_only
@pytest.mark.parametrize("output", ["crf", "softmax"])
def test_ensemble_members_train_as_they_would_alone(output):
    import keras
    import numpy as np
    import tensorflow as tf

    from apps.ner.model import build_model, decode, decode_members

    keras.utils.set_random_seed(0)
    ensemble = build_model(_tiny_options(ensemble=3, output=output), num_words=20, num_chars=10, num_tags=5)
    alone = build_model(_tiny_options(output=output), num_words=20, num_chars=10, num_tags=5)
    rng = np.random.default_rng(0)
    inputs = {"words": np.array([[2, 3, 4, 5, 0, 0], [6, 7, 8, 9, 10, 11]]), "chars": rng.integers(1, 10, (2, 6, 4))}
    gold = np.array([[1, 2, 0, 3, -1, -1], [0, 0, 4, 1, 2, 3]])
    scores = ensemble(inputs)
    assert tuple(scores.shape) == (2, 6, 3, 5)

    def member_of(weight):  # the layers of member m > 0 are named with the suffix _m
        layer = weight.path.split("/")[0]
        return int(layer[-1]) if layer[-2:] in ("_1", "_2") else 0

    members = [[w for w in ensemble.weights if member_of(w) == m] for m in range(3)]
    assert all(len(m) == len(alone.weights) for m in members)
    assert not np.allclose(members[0][0].numpy(), members[1][0].numpy())  # each member starts apart
    for target, source in zip(alone.weights, members[2]):
        target.assign(source)
    np.testing.assert_allclose(alone(inputs), np.asarray(scores)[:, :, 2], atol=1e-6)
    words = inputs["words"]
    np.testing.assert_array_equal(decode_members(ensemble, scores, words)[2], decode(alone, alone(inputs), words))
    if output == "softmax":  # the members' mean probabilities
        expected = np.where(words > 0, np.asarray(scores).mean(axis=2).argmax(-1), 0)
        np.testing.assert_array_equal(decode(ensemble, scores, words), expected)
    # The loss is the sum of the members' own: member 2's gradient is what it would be alone.
    with tf.GradientTape(persistent=True) as tape:
        together = ensemble.loss(gold, ensemble(inputs, training=True))
        apart = alone.loss(gold, alone(inputs, training=True))
    for a, b in zip(tape.gradient(apart, alone.trainable_weights),
                    tape.gradient(together, [w for w in members[2] if w.trainable])):
        np.testing.assert_allclose(tf.convert_to_tensor(a), tf.convert_to_tensor(b), atol=1e-6)


def test_word_dropout_is_one_rate_a_rate_per_member_or_a_range_spread_over_the_members():
    from apps.ner.config import RatesPerMember, member_rates

    convert = RatesPerMember().convert
    assert convert("0.3", None, None) == 0.3 and member_rates(0.3, 2) == [0.3, 0.3]
    assert convert("0.1,0.4", None, None) == [0.1, 0.4] and member_rates([0.1, 0.4], 2) == [0.1, 0.4]
    assert convert("0.50:0.7", None, None) == "0.5:0.7" and convert("0.4:0.4", None, None) == 0.4
    assert member_rates("0.5:0.7", 3) == [0.5, 0.6, 0.7] and member_rates("0.5:0.7", 2) == [0.5, 0.7]
    assert member_rates("0.5:0.7", 1) == [0.5] and member_rates("0.7:0.1", 4) == [0.7, 0.5, 0.3, 0.1]
    assert member_rates(DEFAULTS["word_dropout"], DEFAULTS["ensemble"]) == [0.5, 0.6, 0.7]


@pytest.mark.parametrize("args,message", [
    (["--ensemble", "2", "--word-dropout", "0.1,0.2,0.3"],
     "--word-dropout gives 3 rates for the 2 members of --ensemble: give one rate for all, one per member, or a "
     "range LOW:HIGH"),
    (["--word-dropout", "0.5,x"], "'0.5,x' is not a rate in [0, 1), comma-separated rates, or a range LOW:HIGH"),
    (["--word-dropout", "1"], "'1' is not a rate in [0, 1)"),
    (["--word-dropout", "0.5:1"], "'0.5:1' is not a rate in [0, 1)"),
    (["--word-dropout", "0.5:0.6:0.7"], "'0.5:0.6:0.7' is not a rate in [0, 1)"),
    (["--member-patience", "soon"], "'soon' is neither 'off' nor a number of epochs (0 or more)"),
    (["--member-patience", "1", "--ema-momentum", "0.9"],
     "--member-patience puts a branch's best weights back, which --ema-momentum's averages would overwrite: give "
     "--member-patience off with --ema-momentum"),
])
def test_word_dropout_per_member_is_checked_before_anything_is_written(tmp_path, args, message):
    train = write_conll(tmp_path / "train.txt", ner_sentences(20, seed=2))
    result = CliRunner().invoke(cli, ["train", "--run-dir", str(tmp_path / "run"), "--train-file", train, *args])
    assert result.exit_code != 0 and message in result.output, result.output
    assert not (tmp_path / "run").exists()


@pytest.mark.tf_only
def test_an_ensemble_trains_evaluates_predicts_and_exports_as_one_tagger(tmp_path):
    """With per-member word dropout, the auxiliary language-modelling cost (--lm-weight), adversarial
    training (--adversarial-epsilon) and each member stopped at its own best (--member-patience)."""
    import csv

    import numpy as np
    import tensorflow as tf

    from apps.common.app import load_run
    from apps.ner.cli import APP
    from apps.ner.model import decode
    from layers.crf import ensemble_decode

    train = write_conll(tmp_path / "train.txt", ner_sentences(150, seed=2))
    valid = write_conll(tmp_path / "valid.txt", ner_sentences(40, seed=3))
    run_dir = str(tmp_path / "run")
    result = CliRunner().invoke(cli, ["train", "--run-dir", run_dir, "--train-file", train, "--valid-file", valid,
                                      "--epochs", "5", *NER_SMALL, "--ensemble", "2", "--word-dropout", "0.1,0.3",
                                      "--lm-weight", "0.1", "--lm-words", "12", "--adversarial-epsilon", "0.05",
                                      "--member-patience", "1"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    _check_member_stopping(tmp_path / "run", csv)
    assert json.loads((tmp_path / "run" / "config.json").read_text())["options"]["word_dropout"] == [0.1, 0.3]
    result = CliRunner().invoke(cli, ["evaluate", "--run-dir", run_dir, "--test-file", valid])
    assert result.exit_code == 0, result.output
    scores = json.loads((tmp_path / "run" / "evaluation.json").read_text())
    assert scores["f1"] > 0.9 and len(scores["members"]) == 2, scores
    alone = ", ".join(f"{100 * member['f1']:.2f}" for member in scores["members"])
    assert f"ensemble of 2; each member alone: FB1 {alone}" in result.output
    trained = load_run(APP, run_dir)
    words = np.array([[2, 3, 4, 5, 6, 0]])
    scores = trained.model({"words": words, "chars": np.ones((1, 6, 3), "int64")})
    crfs = [trained.model.get_layer("crf"), trained.model.get_layer("crf_1")]
    assert [trained.model.get_layer(name).rate for name in ("word_dropout", "word_dropout_1")] == [0.1, 0.3]
    assert [(layer.vocabulary_size, layer.weight) for layer in map(trained.model.get_layer, (
        "neighbour_words", "neighbour_words_1"))] == [(12, 0.1), (12, 0.1)]
    assert [trained.model.get_layer(name).epsilon for name in (
        "embedding_perturbation", "embedding_perturbation_1")] == [0.05, 0.05]
    np.testing.assert_array_equal(decode(trained.model, scores, words), ensemble_decode(crfs, scores, words > 0))
    text = "Harry Potter lives in Paris ."
    result = CliRunner().invoke(cli, ["predict", "--run-dir", run_dir, text])
    assert result.exit_code == 0 and "PER\tHarry Potter\t0\t12" in result.output, result.output
    result = CliRunner().invoke(cli, ["export", "--run-dir", run_dir, "--export-base", str(tmp_path / "models")])
    assert result.exit_code == 0, result.output
    served = tf.saved_model.load(str(tmp_path / "models" / "ner" / "1")).signatures["serving_default"]
    tags = served(sentences=tf.constant([text]))["tags"].numpy()[0].tolist()
    assert tags[:6] == [b"B-PER", b"I-PER", b"O", b"O", b"B-LOC", b"O"]


def _check_member_stopping(run_dir, csv):
    """Each member's layers own exactly its weights, every weight is a member's, each member's validation F1 is
    logged every epoch, and the members stopped where the rule, replayed on those figures, stops them."""
    from apps.common.app import load_run
    from apps.common.training import BranchEarlyStopping
    from apps.ner.cli import APP
    from apps.ner.model import member_stopping

    run = load_run(APP, run_dir)
    patience, members = member_stopping(run.options)
    assert patience == 1 and list(members) == ["val_f1_member_0", "val_f1_member_1"] and \
        DEFAULTS["member_patience"] == "off"
    owned = [id(w) for names in members.values() for name in names for w in run.model.get_layer(name).weights]
    assert sorted(owned) == sorted(id(w) for w in run.model.weights)
    rows = list(csv.DictReader(open(run_dir / "metrics.csv")))
    assert all(0 <= float(row[metric]) <= 1 for row in rows for metric in members)
    rule = BranchEarlyStopping(members, patience)
    for row in rows:
        rule._account(row, int(row["epoch"]))
        rule.frozen.update(rule._due())
    assert len(rows) == 5 or len(rule.frozen) == 2  # 5 epochs asked, --patience 20 (NER_SMALL)
    assert sorted(path.stem for path in (run_dir / "checkpoints" / "branches").iterdir()) == sorted(members)


def test_a_story_agrees_on_each_names_type_and_finds_names_it_missed():
    from apps.ner.documents import consistent_tags

    words = [["Paris", "is", "big", "."], ["Paris", "Saint-Germain", "won", "."], ["In", "Paris", "."],
             ["Paris", "said", "so", "."], ["Jordan", "met", "Jordan", "."], ["and", "paris", "Paris"]]
    tags = [["B-LOC", "O", "O", "O"], ["B-ORG", "I-ORG", "O", "O"], ["O", "B-ORG", "O"],
            ["B-LOC", "O", "O", "O"], ["B-PER", "O", "B-LOC", "O"], ["O", "O", "O"]]
    story = [0, 0, 0, 0, 0, 1]
    out = consistent_tags(words, tags, story)
    assert out[0] == ["B-LOC", "O", "O", "O"]
    assert out[1] == ["B-ORG", "I-ORG", "O", "O"]  # another name (two words): its own vote
    assert out[2] == ["O", "B-LOC", "O"]  # Paris: LOC twice, ORG once
    assert out[4] == ["B-PER", "O", "B-LOC", "O"]  # Jordan: PER once, LOC once, a tie keeps each
    assert out[5] == ["O", "O", "O"]  # another story knows no Paris
    words[5], tags[5] = ["and", "paris", "Paris", "Saint-Germain"], ["O", "O", "O", "O"]
    story[5] = 0
    out = consistent_tags(words, tags, story)
    assert out[5] == ["O", "O", "B-ORG", "I-ORG"]  # missed: the longest name first; lower case never
    assert out[:5] == consistent_tags(words[:5], tags[:5], story[:5])


def test_stories_are_counted_from_the_docstart_lines(tmp_path):
    from apps.ner.documents import stories_of

    path = tmp_path / "stories.txt"
    path.write_text("-DOCSTART- -X- O O\n\nA B-PER\n\nB O\n\n-DOCSTART- -X- O O\n\nC O\nD O\n\n")
    assert stories_of(path, read_conll(path)) == [1, 1, 2]
    no_stories = write_conll(tmp_path / "plain.txt", ner_sentences(3), docstart=False)
    assert stories_of(no_stories, read_conll(no_stories)) is None


def test_evaluate_scores_stories_in_file_order_and_reports_each_sentence_alone(trained, tmp_path):
    _, run_dir, valid = trained
    # The validation sentences as three stories, and in the reverse order of lengths, so that the
    # length-sorted batches differ from the file's order.
    sentences = sorted(((tokens, tags) for tokens, tags, _ in read_conll(valid)), key=lambda s: -len(s[0]))
    lines = []
    for s, (tokens, tags) in enumerate(sentences):
        lines += (["-DOCSTART- -X- O O", ""] if s % 20 == 0 else []) + [f"{t} {g}" for t, g in zip(tokens, tags)] + [""]
    stories = tmp_path / "stories.txt"
    stories.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(cli, ["evaluate", "--run-dir", str(run_dir), "--test-file", str(stories)])
    assert result.exit_code == 0, result.output
    with_stories = json.loads((run_dir / "evaluation.json").read_text())
    assert "made consistent within each of 3 stories (--stories); each sentence alone: FB1" in result.output
    result = CliRunner().invoke(cli, ["evaluate", "--run-dir", str(run_dir), "--test-file", str(stories),
                                      "--no-stories"])
    assert result.exit_code == 0 and "stories" not in result.output, result.output
    alone = json.loads((run_dir / "evaluation.json").read_text())
    assert with_stories["stories"] == 3 and "stories" not in alone
    for key in ("f1", "correct_entities", "found_entities", "accuracy"):
        assert with_stories["each_sentence_alone"][key] == alone[key], key  # the same tags either way
    from apps.common.app import load_run
    from apps.ner.cli import APP
    from apps.ner.data import load_evaluation_data
    from apps.ner.evaluate import tag_in_order

    in_file = load_evaluation_data(load_run(APP, run_dir).options, str(stories))
    gold, predicted, _ = tag_in_order(load_run(APP, run_dir), in_file, batch_size=7)
    assert gold == [tags for _, tags, _ in in_file]  # back in the file's order, tags with their own words
    assert [len(tags) for tags in predicted] == [len(tokens) for tokens, _, _ in in_file]


def test_predict_story_makes_the_texts_tags_agree(trained, capsys):
    import tensorflow as tf

    from apps.ner.cli import print_predictions

    texts = ["Paris is big .", "In Paris .", "Paris won ."]
    outputs = {"tokens": tf.constant([["Paris", "is", "big", "."], ["In", "Paris", ".", ""],
                                      ["Paris", "won", ".", ""]]),
               "tags": tf.constant([["B-LOC", "O", "O", "O"], ["O", "B-LOC", "O", "O"], ["B-ORG", "O", "O", "O"]]),
               "length": tf.constant([4, 3, 3])}
    print_predictions(texts, outputs)
    assert "  ORG\tParis\t0\t5" in capsys.readouterr().out  # each sentence alone
    print_predictions(texts, outputs, story=True)
    out = capsys.readouterr().out
    assert "ORG" not in out and out.count("  LOC\tParis") == 3, out
    _, run_dir, _ = trained
    result = CliRunner().invoke(cli, ["predict", "--run-dir", str(run_dir), "--story",
                                      "Harry Potter lives in Paris .", "Potter met Harry Potter ."])
    assert result.exit_code == 0 and result.output.count("PER\tHarry Potter") == 2, result.output
