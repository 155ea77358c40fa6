"""apps.translation: generated dates, pair files, decoding, and the CLI end to end."""

import csv
import datetime
import json

import numpy as np
import pytest
from click.testing import CliRunner

from apps.translation.cli import cli
from datasets.dates import date_pairs
from datasets.errors import DataError
from datasets.pairs import read_pairs


def test_dates_are_reproducible_distinct_and_correct():
    pairs = date_pairs(500, seed=3)
    assert pairs == date_pairs(500, seed=3) and pairs != date_pairs(500, seed=4)
    assert len({h for h, _ in pairs}) == 500
    for human, iso in pairs:
        date = datetime.date.fromisoformat(iso)
        assert 1950 <= date.year <= 2049
        assert str(date.day) in human  # every format shows the day
    held_out = date_pairs(200, seed=9, exclude={h for h, _ in pairs})
    assert not {h for h, _ in held_out} & {h for h, _ in pairs}


def test_pairs_reader(tmp_path):
    path = tmp_path / "p.tsv"
    path.write_text("Go.\tVe.\nCafe\u0301!\tCafé!\n")  # decomposed é in the source
    pairs = read_pairs(str(path))
    assert pairs == [("Go.", "Ve."), ("Café!", "Café!")]
    assert read_pairs(str(path), source_column=1, target_column=0)[0] == ("Ve.", "Go.")
    path.write_text("Go.\tVe.\nHi.\n")
    with pytest.raises(DataError, match=r"p.tsv:2: expected 2 tab-separated columns, found 1"):
        read_pairs(str(path))
    path.write_text("Go.\t \n")
    with pytest.raises(DataError, match=r"p.tsv:1: empty sentence"):
        read_pairs(str(path))
    with pytest.raises(DataError, match="--target-column 5 does not exist"):
        read_pairs(str(tmp_path / "p.tsv"), target_column=5)


class MarkovDecoder:
    """A decoder whose next-token probabilities depend only on the last token: transitions[last] [V]."""

    def __init__(self, transitions):
        self.log_transitions = np.log(np.asarray(transitions, "float32") + 1e-12)

    def encode(self, source):
        batch = source.shape[0]
        return np.zeros((batch, 1, 1), "float32"), [np.zeros((batch, 1), "float32")], np.ones((batch, 1), bool)

    def step(self, token, states, encoded, mask):
        weights = np.ones((len(token), encoded.shape[1]), "float32")
        return self.log_transitions[np.asarray(token)], states, weights


def test_beam_search_finds_what_greedy_misses_and_normalises_length():
    from apps.translation.model import beam_decode, greedy_decode

    # ids: 0 pad, 1 unk, 2 start, 3 end, 4 A, 5 B. Greedy takes A (0.6) then ends at 0.3: 0.18 in all;
    # B (0.4) then end (0.9) is 0.36.
    transitions = np.zeros((6, 6))
    transitions[2, [4, 5]] = [0.6, 0.4]
    transitions[4, [3, 1, 4]] = [0.3, 0.35, 0.35]
    transitions[5, [3, 4]] = [0.9, 0.1]
    source = np.ones((2, 3), "int64")
    greedy, _ = greedy_decode(MarkovDecoder(transitions), source, 5)
    assert np.asarray(greedy)[0, 0] == 4
    beam = np.asarray(beam_decode(MarkovDecoder(transitions), source, 2, 5))
    np.testing.assert_array_equal(beam, [[5, 3, 0, 0, 0]] * 2)
    # End at once (0.5, one token) or A C end (0.5 * 0.9 * 1 = 0.45, three tokens): raw log-probability
    # prefers the short one, divided by the length the long one.
    transitions = np.zeros((7, 7))
    transitions[2, [3, 4]] = [0.5, 0.5]  # start: end now, or A
    transitions[4, [6, 3]] = [0.9, 0.1]  # A: then C, or end
    transitions[6, 3] = 1.0  # C: end
    raw = np.asarray(beam_decode(MarkovDecoder(transitions), source, 3, 5, length_penalty=0.0))
    normalised = np.asarray(beam_decode(MarkovDecoder(transitions), source, 3, 5, length_penalty=1.0))
    np.testing.assert_array_equal(raw[0], [3, 0, 0, 0, 0])
    np.testing.assert_array_equal(normalised[0], [4, 6, 3, 0, 0])


def test_decomposed_accents_compose_in_the_graph():
    import tensorflow as tf

    from datasets.seq2seq import split_tokens

    decomposed = "¿Dónde esta\u0301 el nin\u0303o, Zoe\u0308?"
    composed = "¿Dónde está el niño, Zoë?"
    tokens = split_tokens(tf.constant([decomposed, composed, "", b"\xff"]), "word").to_list()
    assert tokens[0] == tokens[1] == [t.encode() for t in ["¿", "dónde", "está", "el", "niño", ",", "zoë", "?"]]
    assert tokens[2] == [] and tokens[3] == ["\ufffd".encode()]
    assert split_tokens(tf.constant(["Está"]), "word", lowercase=False).to_list() == [["Está".encode()]]


def test_ids_to_text_stops_at_end_and_glues_punctuation():
    from datasets.seq2seq import ids_to_text

    vocabulary = ["", "[UNK]", "[START]", "[END]", "hola", ",", "¿", "qué", "?", "tal"]
    text = ids_to_text(np.array([[6, 7, 9, 8, 3, 4, 4], [4, 5, 1, 0, 0, 0, 0]]), vocabulary, "word").numpy()
    assert [t.decode() for t in text] == ["¿qué tal?", "hola, [UNK]"]
    chars = ["", "[UNK]", "[START]", "[END]", "1", "9", "-"]
    assert ids_to_text(np.array([[4, 5, 6, 3, 4]]), chars, "char").numpy()[0].decode() == "19-"


@pytest.fixture
def trained(translation_trained):
    return translation_trained


@pytest.mark.tf_only
def test_training_learns_dates(trained):
    _, run_dir = trained
    rows = list(csv.DictReader(open(run_dir / "metrics.csv")))
    accuracy = [float(r["val_masked_accuracy"]) for r in rows]
    assert len(rows) == 4 and accuracy[-1] > 0.85 and accuracy[-1] > accuracy[0], accuracy


@pytest.mark.tf_only
def test_beam_of_one_is_greedy_and_evaluate_reports_all_metrics(trained):
    import tensorflow as tf

    from apps.common.app import load_run
    from apps.translation.cli import APP
    from apps.translation.evaluate import translate_texts
    from apps.translation.model import Decoder, beam_decode, greedy_decode
    from datasets.seq2seq import END_ID, encode

    _, run_dir = trained
    trained = load_run(APP, run_dir)
    options, model, (source_lookup, _) = trained.options, trained.model, trained.encoders
    texts = ["3 May 1979", "Tuesday, 10 July 2001", "09/05/88", "3 de mayo de 1979"]
    source = encode(tf.constant(texts), source_lookup, "char", options["max_length"]).to_tensor()
    tokens, attention = greedy_decode(Decoder(model), source, options["max_length"])
    assert END_ID in np.asarray(tokens)
    beam = beam_decode(Decoder(model), source, 1, options["max_length"])
    np.testing.assert_array_equal(np.asarray(beam), np.asarray(tokens))
    weights = np.asarray(attention)
    assert np.allclose(weights[:, 0].sum(-1), 1.0, atol=1e-4)
    beams = translate_texts(texts, trained, beam_size=4)
    assert len(beams) == 4 and all(isinstance(b, str) for b in beams)

    result = CliRunner().invoke(cli, ["evaluate", "--run-dir", str(run_dir), "--size", "200", "--beam-size", "2"])
    assert result.exit_code == 0, result.output
    scores = json.loads((run_dir / "evaluation.json").read_text())
    assert scores["pairs"] == 200 and scores["beam_size"] == 2
    assert 0 <= scores["exact_match"] <= 1 and scores["bleu"] > 0 and scores["chrf"] > 0


@pytest.mark.tf_only
def test_translate_plots_attention(trained, tmp_path):
    _, run_dir = trained
    png = tmp_path / "attention.png"
    result = CliRunner().invoke(cli, ["translate", "--run-dir", str(run_dir), "3 May 1979", "--plot-attention",
                                      str(png)])
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.tf_only
def test_word_level_pairs_file(tmp_path):
    pairs = tmp_path / "pairs.tsv"
    # 60 different sources: validation is carved by source sentence, and every word must also be in training.
    rows = [row for i in range(20) for row in ((f"I am here {i}.", f"Estoy aquí {i}."),
                                                 (f"Where is it {i}?", f"¿Dónde está {i}?"), (f"Go {i}!", f"¡Vete {i}!"))]
    pairs.write_text("".join(f"{a}\t{b}\n" for a, b in rows))
    run_dir = tmp_path / "run"
    result = CliRunner().invoke(cli, ["train", "--run-dir", str(run_dir), "--train-file", str(pairs), "--epochs",
                                      "1", "--units", "8"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    options = json.loads((run_dir / "config.json").read_text())["options"]
    assert options["level"] == "word"
    vocabulary = (run_dir / "vocabulary" / "target.txt").read_text().split("\n")
    assert "aquí" in vocabulary and "¿" in vocabulary  # accents and Spanish punctuation survive


def test_evaluation_dates_are_new():
    from apps.translation import config
    from apps.translation.data import load_evaluation_data, load_training_data

    options = {**config.DEFAULTS, "train_size": 3000, "level": "char"}
    train, valid = load_training_data(options)
    test = load_evaluation_data(options, size=1000)
    assert len(test) == 1000
    assert not {s for s, _ in test} & {s for s, _ in train + valid}
    assert not {s for s, _ in valid} & {s for s, _ in train}


def _pairs_with_repeated_sources():
    """600 pairs: 200 source sentences, each with three translations (as Tatoeba has)."""
    return [(f"frase número {i}.", f"sentence {i}, version {v}.") for i in range(200) for v in range(3)]


def test_validation_is_carved_by_source_sentence(tmp_path):
    from apps.translation import config
    from apps.translation.data import load_training_data

    pairs = _pairs_with_repeated_sources()
    path = tmp_path / "pairs.tsv"
    path.write_text("".join(f"{s}\t{t}\n" for s, t in pairs))
    options = config.OPTIONS.values({"train_file": str(path), "valid_fraction": 0.1})
    train, valid = load_training_data(options)
    assert len(train) + len(valid) == 600
    assert 30 <= len(valid) <= 90 and len(valid) % 3 == 0  # about 10%, whole sources only
    assert not {s for s, _ in valid} & {s for s, _ in train}
    # The same split whatever the order of the file; another seed gives another split.
    path.write_text("".join(f"{s}\t{t}\n" for s, t in reversed(pairs)))
    assert sorted(load_training_data(options)[1]) == sorted(valid)
    assert sorted(load_training_data({**options, "seed": 1})[1]) != sorted(valid)
    # The carve of older runs (valid_split random) splits a source's translations across the sets.
    _, random_valid = load_training_data({**options, "valid_split": "random"})
    assert {s for s, _ in random_valid} & {s for s, _ in load_training_data({**options, "valid_split": "random"})[0]}


def test_a_run_without_valid_split_recorded_keeps_the_random_carve(tmp_path):
    from apps.common.app import load_run
    from apps.translation.cli import APP

    path = tmp_path / "pairs.tsv"
    path.write_text("".join(f"{s}\t{t}\n" for s, t in _pairs_with_repeated_sources()))
    run_dir = tmp_path / "run"
    result = CliRunner().invoke(cli, ["train", "--run-dir", str(run_dir), "--train-file", str(path), "--epochs", "1",
                                      "--units", "8", "--embedding-dim", "8"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    config_path = run_dir / "config.json"
    recorded = json.loads(config_path.read_text())
    assert recorded["options"].pop("valid_split") == "by-source"
    config_path.write_text(json.dumps(recorded))  # as a run made before the option existed
    assert load_run(APP, run_dir).options.valid_split == "random"
    result = CliRunner().invoke(cli, ["train", "--run-dir", str(run_dir), "--train-file", str(path), "--epochs", "2",
                                      "--units", "8", "--embedding-dim", "8"])
    assert result.exit_code != 0 and "valid_split: 'random' -> 'by-source'" in result.output


def test_bleu_and_chrf_see_cased_detokenised_translations_and_untouched_references(tmp_path, monkeypatch):
    import types

    import sacrebleu

    from apps.common.options import RunOptions
    from apps.translation import config, evaluate

    references = ["Tom isn't here!", "Where's Mary's book?", "It's 5 o'clock, Mr. Smith.", "I like New York."]
    path = tmp_path / "test.tsv"
    path.write_text("".join(f"fuente {i}\t{r}\n" for i, r in enumerate(references)))
    trained = types.SimpleNamespace(options=RunOptions({**config.DEFAULTS, "level": "word", "dataset": "x"}))
    seen = []
    for name in ("corpus_bleu", "corpus_chrf"):
        real = getattr(sacrebleu, name)
        monkeypatch.setattr(sacrebleu, name, lambda hyp, refs, real=real: seen.append((hyp, refs)) or real(hyp, refs))

    def score(translations):
        monkeypatch.setattr(evaluate, "translate_texts", lambda texts, *args, **kwargs: list(translations))
        return evaluate.evaluate_run(trained, test_file=str(path))

    exact = score(references)
    assert seen[0] == (references, [references]) and seen[1] == (references, [references])  # as in the file
    assert exact["bleu"] == pytest.approx(100) and exact["chrf"] == pytest.approx(100) and exact["exact_match"] == 1
    lowered = score([r.lower() for r in references])
    assert lowered["bleu"] < 60 and lowered["chrf"] < exact["chrf"]  # case counts
    tokenised = score(["Tom is n't here !", "Where 's Mary 's book ?", "It 's 5 o'clock , Mr. Smith .",
                       "I like New York ."])
    assert tokenised["bleu"] < exact["bleu"]  # the hypotheses are scored as given: detokenising is the model's job


def test_word_level_output_is_detokenised_and_keeps_its_case():
    """What the model writes reaches BLEU as text: punctuation glued back, capitals kept (target_case keep)."""
    import tensorflow as tf

    from datasets.seq2seq import build_vocabulary, encode, ids_to_text, make_lookup

    references = ["Tom isn't here!", "Where's Mary's book?", "It's 5 o'clock, Mr. Smith.", "¿Qué es eso?"]
    vocabulary = build_vocabulary(references, "word", 100, lowercase=False)
    ids = encode(tf.constant(references), make_lookup(vocabulary), "word", 20, lowercase=False).to_tensor()
    texts = [t.decode("utf-8") for t in ids_to_text(ids, make_lookup(vocabulary).get_vocabulary(), "word").numpy()]
    assert texts == references
