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
from tests.isolated import run_isolated


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


def test_ids_to_text_stops_at_end_and_glues_punctuation():
    from datasets.seq2seq import ids_to_text

    vocabulary = ["", "[UNK]", "[START]", "[END]", "hola", ",", "¿", "qué", "?", "tal"]
    text = ids_to_text(np.array([[6, 7, 9, 8, 3, 4, 4], [4, 5, 1, 0, 0, 0, 0]]), vocabulary, "word").numpy()
    assert [t.decode() for t in text] == ["¿qué tal?", "hola, [UNK]"]
    chars = ["", "[UNK]", "[START]", "[END]", "1", "9", "-"]
    assert ids_to_text(np.array([[4, 5, 6, 3, 4]]), chars, "char").numpy()[0].decode() == "19-"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    base = tmp_path_factory.mktemp("translation")
    run_dir = base / "run"
    result = CliRunner().invoke(cli, ["train", "--run-dir", str(run_dir), "--train-size", "3000", "--epochs", "4",
                                      "--units", "32", "--seed", "0", "--patience", "10"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return base, run_dir


@pytest.mark.tf_only
def test_training_learns_dates(trained):
    _, run_dir = trained
    rows = list(csv.DictReader(open(run_dir / "metrics.csv")))
    accuracy = [float(r["val_masked_accuracy"]) for r in rows]
    assert len(rows) == 4 and accuracy[-1] > 0.85 and accuracy[-1] > accuracy[0], accuracy


@pytest.mark.tf_only
def test_beam_of_one_is_greedy_and_evaluate_reports_all_metrics(trained):
    import tensorflow as tf

    from apps.translation.cli import load_run, translate_texts
    from apps.translation.model import Decoder, beam_search, greedy_decode
    from datasets.seq2seq import END_ID, encode

    _, run_dir = trained
    options, model, source_lookup, target_lookup = load_run(run_dir)
    texts = ["3 May 1979", "Tuesday, 10 July 2001", "09/05/88", "3 de mayo de 1979"]
    source = encode(tf.constant(texts), source_lookup, "char", options["max_length"]).to_tensor()
    tokens, attention = greedy_decode(Decoder(model), source, options["max_length"])
    greedy = [[int(t) for t in row[: list(row).index(END_ID)] if t] if END_ID in list(row) else
              [int(t) for t in row if t] for row in np.asarray(tokens)]
    assert beam_search(Decoder(model), source, 1, options["max_length"]) == greedy
    weights = np.asarray(attention)
    assert np.allclose(weights[:, 0].sum(-1), 1.0, atol=1e-4)
    beams = translate_texts(texts, options, model, source_lookup, target_lookup, beam_size=4)
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
def test_export_decodes_inside_the_graph(trained):
    base, run_dir = trained
    result = CliRunner().invoke(cli, ["export", "--run-dir", str(run_dir), "--export-base",
                                      str(base / "saved_models")])
    assert result.exit_code == 0, result.output
    version = result.output.strip().splitlines()[-1]
    local = CliRunner().invoke(cli, ["translate", "--run-dir", str(run_dir), "3 May 1979"])
    out = run_isolated(
        f"""
        import json, tensorflow as tf
        serve = tf.saved_model.load({version!r}).signatures["serving_default"]
        out = serve(texts=tf.constant(["3 May 1979", "", "zzz unknown ☃ words", b"\\xff\\xfe", "9" * 5000]))
        print(json.dumps([t.decode("utf-8") for t in out["translation"].numpy()]))
        """,
        cwd=base,
    )
    assert len(out) == 5
    assert out[0] == local.output.strip().splitlines()[-1]


@pytest.mark.tf_only
def test_word_level_pairs_file(tmp_path):
    pairs = tmp_path / "pairs.tsv"
    rows = [("I am here.", "Estoy aquí."), ("Where is it?", "¿Dónde está?"), ("Go!", "¡Vete!")] * 20
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
