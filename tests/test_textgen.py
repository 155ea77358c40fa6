"""apps.textgen: NLL by hand, sampling per seed, user errors, running text and word level, on tiny data."""

import math

import keras
import numpy as np
import pytest
from click.testing import CliRunner

from apps.common.app import TrainedRun, load_run
from apps.common.options import RunOptions
from apps.textgen import config
from apps.textgen.cli import APP, cli
from apps.textgen.evaluate import example_log_probabilities, sample_texts, score_texts
from datasets import textgen
from tests.fixtures import made_up_names, write_lines

pytestmark = pytest.mark.tf_only


def constant_model(probabilities):
    """ids [B, T] -> logits [B, T, V] that are log(probabilities) at every step, whatever the input."""
    ids = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(len(probabilities), 1, embeddings_initializer="zeros")(ids)
    logits = keras.layers.Dense(len(probabilities), kernel_initializer="zeros",
                                bias_initializer=keras.initializers.Constant(np.log(probabilities)))(x)
    return keras.Model(ids, logits)


def test_nll_per_character_equals_a_hand_computation_on_two_characters():
    vocabulary = [textgen.PAD, textgen.UNKNOWN, textgen.END, "a", "b"]
    p = {"a": 0.5, "b": 0.25, textgen.END: 0.2, textgen.UNKNOWN: 0.05}
    probabilities = [1e-9, p[textgen.UNKNOWN], p[textgen.END], p["a"], p["b"]]
    trained = TrainedRun(None, RunOptions({**config.DEFAULTS}), constant_model(probabilities), {}, vocabulary)
    # "ab", "a": a b END a END. "c" is unseen: scored as the unknown token, then END.
    scores = score_texts(trained, ["ab", "a", "c"])
    by_hand = -(2 * math.log(0.5) + math.log(0.25) + 3 * math.log(0.2) + math.log(0.05)) / 7
    assert scores["tokens"] == 7
    assert scores["nll_per_token"] == pytest.approx(by_hand, rel=1e-5)
    assert scores["nll_bits_per_token"] == pytest.approx(by_hand / math.log(2), rel=1e-5)
    assert scores["perplexity"] == pytest.approx(math.exp(by_hand), rel=1e-5)


def test_the_probability_of_a_whole_example_is_the_product_of_its_steps_and_they_add_up_to_one():
    vocabulary = [textgen.PAD, textgen.UNKNOWN, textgen.END, "a", "b"]
    probabilities = [1e-9, 0.05, 0.2, 0.5, 0.25]  # unknown, end, a, b
    options = RunOptions({**config.DEFAULTS, "max_length": 40})
    trained = TrainedRun(None, options, constant_model(probabilities), {}, vocabulary)
    log_p = example_log_probabilities(trained, ["ab", "a", "c", ""])
    by_hand = [math.log(0.5 * 0.25 * 0.2), math.log(0.5 * 0.2), math.log(0.05 * 0.2), math.log(0.2)]
    np.testing.assert_allclose(log_p, by_hand, rtol=1e-5)
    # Every example of up to 3 characters over {a, b}: with END at 0.2 and (a or b) at 0.75, the mass of the
    # examples of length k is 0.75^k * 0.2; the sum over k <= 3 is what sampling draws from them.
    import itertools

    examples = [""] + ["".join(c) for k in (1, 2, 3) for c in itertools.product("ab", repeat=k)]
    mass = float(np.exp(example_log_probabilities(trained, examples).astype("float64")).sum())
    assert mass == pytest.approx(sum(0.75 ** k * 0.2 for k in range(4)), rel=1e-5)


def test_sampling_is_reproducible_per_seed_and_differs_across_seeds(textgen_trained):
    trained = load_run(APP, textgen_trained[1])
    first = sample_texts(trained, 12, seed=3)
    assert first == sample_texts(trained, 12, seed=3)
    assert first != sample_texts(trained, 12, seed=4)
    assert len(first) == 12 and all("\n" not in text for text in first)
    narrow = sample_texts(trained, 6, seed=3, top_k=1, prefix="Ma")
    assert len(set(narrow)) == 1 and narrow[0].startswith("Ma"), "top-k 1 is greedy: every sample the same"


def test_sample_marks_copies_and_reports_the_share_of_new_ones(textgen_trained):
    _, run_dir, names = textgen_trained
    result = CliRunner().invoke(cli, ["sample", "--run-dir", str(run_dir), "--num", "30", "--seed", "1"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    seen = set(open(names).read().split())
    assert len(lines) == 30 and all(line[0] == ("*" if line[2:] in seen else " ") for line in lines)
    new = sum(line[2:] not in seen for line in lines)
    assert result.stderr.strip() == f"{new} of 30 new ({100 * new / 30:.1f}%); * a training example"


@pytest.mark.parametrize("temperature", ["0", "-1"])
def test_a_temperature_that_is_not_positive_is_a_one_line_error(textgen_trained, temperature):
    result = CliRunner().invoke(cli, ["sample", "--run-dir", str(textgen_trained[1]), "--temperature", temperature])
    assert result.exit_code != 0
    assert len(result.output.strip().splitlines()) == 1 and "--temperature" in result.output


def test_evaluate_reports_nats_bits_and_perplexity(textgen_trained, tmp_path):
    _, run_dir, _ = textgen_trained
    test_file = write_lines(tmp_path / "test.txt", made_up_names(50, seed=9) + ["Zq"])
    result = CliRunner().invoke(cli, ["evaluate", "--run-dir", str(run_dir), "--test-file", test_file])
    assert result.exit_code == 0, result.output
    assert "NLL per character (nats)" in result.output and "NLL per character (bits)" in result.output
    import json

    written = json.loads((run_dir / "evaluation.json").read_text())
    assert written["data"] == test_file and written["nll_bits_per_token"] == pytest.approx(
        written["nll_per_token"] / math.log(2))
    assert written["perplexity"] < 27, "a trained model beats guessing among its characters"


def test_running_text_at_word_level_trains_and_samples(tmp_path):
    text = " ".join(f"the {w} sat on the mat ." for w in ["cat", "dog", "bird", "cow"] * 30)
    book = write_lines(tmp_path / "book.txt", [text[i:i + 70] for i in range(0, len(text), 70)])
    run_dir = tmp_path / "run"
    result = CliRunner().invoke(cli, ["train", "--run-dir", str(run_dir), "--train-file", book, "--mode", "text",
                                      "--level", "word", "--window", "8", "--epochs", "2", "--units", "16",
                                      "--layers", "1", "--batch-size", "8"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    texts = sample_texts(load_run(APP, run_dir), 2, seed=0, prefix="the cat", max_length=5)
    assert all(t.startswith("the cat") and len(t.split()) <= 7 for t in texts)


def test_user_errors_are_one_line(tmp_path):
    cases = [(["--train-file", str(tmp_path / "missing.txt")], "no such file"),
             (["--level", "word"], "--level word is for --mode text"),
             (["--mode", "text"], "--mode text needs --train-file")]
    for args, message in cases:
        result = CliRunner().invoke(cli, ["train", "--run-dir", str(tmp_path / "run"), *args])
        assert result.exit_code != 0 and message in result.output and len(result.output.strip().splitlines()) == 1
        assert not (tmp_path / "run").exists()


def test_census_names_are_the_embedded_default():
    first, last = textgen.census_names("first-names"), textgen.census_names("surnames")
    assert len(first) > 5000 and len(last) > 80000 and "James" in first and "Smith" in last
    assert len(set(first)) == len(first)
