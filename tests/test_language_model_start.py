"""A word-level language model (textgen, sampled softmax) that the sentiment classifier starts from."""

import json

import keras
import numpy as np
import pytest
from click.testing import CliRunner

from apps.common.app import load_run
from apps.common.errors import UserError
from apps.sentiment.cli import cli as sentiment
from apps.textgen.cli import APP as TEXTGEN
from apps.textgen.cli import cli as textgen
from apps.textgen.config import DEFAULTS
from apps.textgen.model import SampledSoftmaxLanguageModel, build_model
from tests.fixtures import SENTIMENT_SMALL, sentiment_rows, write_jsonl, write_lines


def invoke(cli, *args):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def word_model(vocabulary_size, sampled):
    options = {**DEFAULTS, "cell": "gru", "units": 8, "layers": 1, "embedding_dim": 4, "seed": 0,
               "sampled_softmax": sampled}
    return build_model(options, vocabulary_size)


def test_sampled_softmax_trains_on_the_sample_and_validates_on_the_full_softmax(tmp_path):
    rng = np.random.default_rng(0)
    ids = rng.integers(3, 40, size=(32, 12)).astype("int32")
    targets = np.roll(ids, -1, axis=1)
    targets[:4, -5:] = 0  # padding: no target
    model = word_model(40, sampled=6)
    assert isinstance(model, SampledSoftmaxLanguageModel)
    weights = [w.copy() for w in model.get_weights()]
    history = model.fit(ids, targets, batch_size=8, epochs=2, verbose=0, validation_data=(ids, targets))
    assert any(not np.array_equal(a, b) for a, b in zip(weights, model.get_weights())), "training moved weights"
    assert np.isfinite(history.history["loss"]).all() and "accuracy" in history.history
    # Validation is the exact NLL per real token, from the full softmax (the model's call).
    logits = model.predict(ids, verbose=0)
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    real = targets != 0
    by_hand = -np.take_along_axis(log_p, targets[..., None], -1)[..., 0][real].mean()
    assert model.evaluate(ids, targets, verbose=0)[0] == pytest.approx(by_hand, rel=1e-4)
    # A run's model reloads as the same class, sample size and outputs.
    model.save(tmp_path / "lm.keras")
    loaded = keras.models.load_model(tmp_path / "lm.keras", compile=False)
    assert type(loaded) is SampledSoftmaxLanguageModel and loaded.sampled == 6
    np.testing.assert_allclose(loaded.predict(ids, verbose=0), logits, rtol=1e-5, atol=1e-5)


def test_a_sample_as_large_as_the_vocabulary_is_a_one_line_error():
    with pytest.raises(UserError, match="--sampled-softmax 39 needs a vocabulary larger than that"):
        word_model(40, sampled=39)


@pytest.fixture(scope="module")
def reviews(tmp_path_factory):
    """(folder, labelled training file, unlabeled file, the language model run trained on lm-text's output)."""
    base = tmp_path_factory.mktemp("lm-start")
    rows = [{**row, "text": f"{row['text']} (review {i})"} for i, row in enumerate(sentiment_rows(200, seed=0))]
    train = write_jsonl(base / "train.jsonl", rows)  # every text its own: a validation text is recognisable
    unlabeled = write_lines(base / "more.txt", ["An UNLABELED review, great!", "", "another one."])
    invoke(sentiment, "lm-text", "--train-file", train, "--unlabeled-file", unlabeled, "--output", base / "lm.txt",
           "--seed", 1)
    # A folder that does not exist yet is made, as the other commands' outputs are.
    invoke(sentiment, "lm-text", "--train-file", train, "--output", base / "texts" / "backward.txt", "--seed", 1,
           "--reverse")
    for name, text in [("lm", "lm.txt"), ("backward", "texts/backward.txt")]:
        invoke(textgen, "train", "--run-dir", base / name, "--train-file", base / text, "--mode", "text",
               "--level", "word", "--window", 8, "--layers", 1, "--cell", "gru", "--units", 8, "--embedding-dim",
               8, "--sampled-softmax", 4, "--epochs", 1, "--batch-size", 8, "--seed", len(name))
    return base, train, unlabeled


def test_lm_text_is_the_training_side_as_the_classifier_tokenises_it_then_the_unlabeled_lines(reviews):
    from apps.sentiment.config import OPTIONS
    from apps.sentiment.data import load_training_data

    base, train, _ = reviews
    lines = (base / "lm.txt").read_text(encoding="utf-8").splitlines()
    (train_texts, _), (valid_texts, _), _ = load_training_data({**OPTIONS.defaults, "train_file": train, "seed": 1})
    assert len(lines) == len(train_texts) + 2
    tokenised = lambda text: " ".join(text.lower().replace("(", " ( ").replace(")", " ) ").split())  # noqa: E731
    assert lines[:len(train_texts)] == [tokenised(t) for t in train_texts]
    assert lines[-2:] == ["an unlabeled review , great !", "another one ."]  # punctuation split off, blank skipped
    assert valid_texts and not set(map(tokenised, valid_texts)) & set(lines), "no validation text reaches it"
    backward = (base / "texts" / "backward.txt").read_text(encoding="utf-8").splitlines()
    assert backward == [" ".join(line.split()[::-1]) for line in lines[:len(train_texts)]]


@pytest.mark.parametrize("backward", [False, True])
def test_init_from_starts_the_embedding_and_each_direction_from_its_language_model(reviews, backward):
    base, train, _ = reviews
    run_dir = base / f"classifier-{backward}"
    small = [a for a in SENTIMENT_SMALL]
    small[small.index("--units") + 1] = "8"
    result = invoke(sentiment, "train", "--run-dir", run_dir, "--train-file", train, "--epochs", 1, "--seed", 1,
                    *small, "--init-from", base / "lm", *(["--init-backward-from", base / "backward"] * backward))
    said = "backward direction of the first 1 from" if backward else "the backward one starts at random"
    assert said in result.output, result.output
    lm = load_run(TEXTGEN, base / "lm")
    lm_rows = {token: row for row, token in enumerate(lm.encoders)}
    vocabulary = (run_dir / "vocabulary" / "tokens.txt").read_text(encoding="utf-8").split("\n")[:-1]
    # The start, before training moved it: rebuild it as train does and compare with the language model.
    from apps.common.options import RunOptions
    from apps.sentiment.cli import APP

    options = RunOptions(json.loads((run_dir / "config.json").read_text())["options"])
    model = APP.build_model(options, APP.make_encoders(options, {"tokens": vocabulary}))
    random_start = model.get_layer("embedding").embeddings.numpy().copy()
    APP.initialize(model, {**options, "ngram_init": "zero"}, {"tokens": vocabulary}, None)
    embedding = model.get_layer("embedding").embeddings.numpy()
    lm_embedding = lm.model.get_layer("embedding").embeddings.numpy()
    shared = [(row, lm_rows[word]) for row, word in enumerate(vocabulary) if row >= 2 and word in lm_rows]
    assert len(shared) >= len(vocabulary) // 2
    for row, lm_row in shared:
        np.testing.assert_array_equal(embedding[row], lm_embedding[lm_row])
    np.testing.assert_array_equal(embedding[0], random_start[0])  # padding keeps its start
    bidirectional = model.get_layer("bidirectional_0")
    for ours, theirs in zip(bidirectional.forward_layer.cell.get_weights(),
                            lm.model.get_layer("rnn_0").cell.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    backward_lm = load_run(TEXTGEN, base / "backward").model.get_layer("rnn_0").cell.get_weights()
    for ours, theirs in zip(bidirectional.backward_layer.cell.get_weights(), backward_lm):
        assert np.array_equal(ours, theirs) == backward


@pytest.mark.parametrize("args, message", [
    (["--units", "12"], "its units is 8, this run's --units is 12; give --units 8"),
    (["--cell", "lstm"], "its cell is gru, this run's --cell is lstm; give --cell gru"),
    (["--embeddings", "VECTORS"], "--embeddings and --init-from both start the word embedding"),
    (["--init-backward-from", "LM", "--no-bidirectional"], "--init-backward-from starts a bidirectional"),
])
def test_an_encoder_that_does_not_fit_the_language_model_is_a_one_line_error(reviews, args, message):
    base, train, _ = reviews
    args = [{"VECTORS": str(base / "vectors.txt"), "LM": str(base / "lm")}.get(a, a) for a in args]
    write_lines(base / "vectors.txt", ["great " + " ".join(["0.1"] * 8)])
    small = [a for a in SENTIMENT_SMALL]
    small[small.index("--units") + 1] = "8"
    result = CliRunner().invoke(sentiment, ["train", "--run-dir", str(base / "bad"), "--train-file", train,
                                            "--epochs", "1", *small, "--init-from", str(base / "lm"), *args])
    assert result.exit_code != 0 and message in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert not (base / "bad").exists(), "refused before the run directory is written"


def test_a_character_level_model_or_a_missing_run_is_refused(tmp_path, reviews):
    base, train, _ = reviews
    names = write_lines(tmp_path / "names.txt", ["anna", "bob", "carl", "dora"] * 10)
    invoke(textgen, "train", "--run-dir", tmp_path / "chars", "--train-file", names, "--epochs", 1, "--units", 8,
           "--layers", 1, "--embedding-dim", 8)
    for lm, message in [(tmp_path / "chars", "a char-level language model"),
                        (tmp_path / "nothing", "not a run directory")]:
        result = CliRunner().invoke(sentiment, ["train", "--run-dir", str(tmp_path / "run"), "--train-file", train,
                                                "--epochs", "1", *SENTIMENT_SMALL, "--init-from", str(lm)])
        assert result.exit_code != 0 and message in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1, result.output


def test_pretrain_epochs_trains_both_language_models_in_the_run_and_starts_from_them(tmp_path):
    train = write_jsonl(tmp_path / "train.jsonl", sentiment_rows(120, seed=0))
    small = [a for a in SENTIMENT_SMALL]
    more = write_lines(tmp_path / "more.txt", ["An unlabeled review.", "And another!"])
    args = ["train", "--run-dir", tmp_path / "run", "--train-file", train, "--epochs", 1, *small,
            "--unlabeled-file", more, "--pretrain-epochs", 1]
    result = invoke(sentiment, *args)
    for direction in ("forward", "backward"):
        assert (tmp_path / "run" / "language_models" / direction / "model.keras").exists()
    assert "backward direction of the first 1 from --init-backward-from" in result.output, result.output
    forward = (tmp_path / "run" / "language_models" / "forward.txt").read_text().splitlines()
    backward = (tmp_path / "run" / "language_models" / "backward.txt").read_text().splitlines()
    assert backward == [" ".join(line.split()[::-1]) for line in forward] and len(forward) == 108 + 2
    assert forward[-2:] == ["an unlabeled review .", "and another !"]
    config = json.loads((tmp_path / "run" / "config.json").read_text())["options"]
    assert config["pretrain_epochs"] == 1 and config["init_from"] is None  # the run records how, not where
    _a_run_moved_during_its_forward_language_model_continues_it_where_it_is(tmp_path, args)
    # Trained on with more epochs, the finished language models are kept, not trained again.
    again = invoke(sentiment, *args[:args.index("--epochs") + 1], 2, *args[args.index("--epochs") + 2:])
    assert "training the forward language model" not in again.output
    refused = CliRunner().invoke(sentiment, [str(a) for a in args[:-2]] + ["--pretrain-epochs", "1",
                                                                          "--no-bidirectional"])
    assert refused.exit_code != 0 and "starts both directions of a --bidirectional encoder" in refused.output


def _a_run_moved_during_its_forward_language_model_continues_it_where_it_is(tmp_path, args):
    """The run directory as it was while its forward language model trained, copied elsewhere and the old one
    gone: the same command continues that language model on the copy's own text (it refused the text's new
    path before), then trains the rest."""
    import shutil

    moved = tmp_path / "moved" / "run"
    shutil.copytree(tmp_path / "run", moved)
    for path in [*moved.iterdir(), *(moved / "language_models").iterdir()]:
        if path.name not in ("config.json", "vocabulary", "language_models", "forward", "forward.txt"):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    (moved / "language_models" / "forward" / "model.keras").unlink()  # its epoch done, not yet written out
    shutil.move(tmp_path / "run", tmp_path / "was")  # the old place is gone
    try:
        result = invoke(sentiment, *[moved if arg == tmp_path / "run" else arg for arg in args])
    finally:
        shutil.move(tmp_path / "was", tmp_path / "run")
    assert "training the forward language model" in result.output
    forward = json.loads((moved / "language_models" / "forward" / "config.json").read_text())["options"]
    assert forward["train_file"] == str(moved / "language_models" / "forward.txt")
    assert (moved / "language_models" / "backward" / "model.keras").exists() and (moved / "model.keras").exists()


def test_pretrain_epochs_auto_pretrains_only_an_encoder_that_starts_from_nothing_else(tmp_path):
    from apps.sentiment.cli import check_options
    from apps.sentiment.config import AUTO_PRETRAIN_EPOCHS, DEFAULTS as SENTIMENT_DEFAULTS
    from apps.sentiment.model import pretraining_epochs

    assert SENTIMENT_DEFAULTS["pretrain_epochs"] == "auto" and AUTO_PRETRAIN_EPOCHS > 0
    auto = {**SENTIMENT_DEFAULTS, "pretrain_epochs": "auto"}
    assert pretraining_epochs(auto) == AUTO_PRETRAIN_EPOCHS
    for other in ({"init_from": "lm"}, {"embeddings": "vectors.txt"}, {"bidirectional": False},
                  {"pipeline": "stream"}, {"strategy": "multi-worker"}):
        assert pretraining_epochs({**auto, **other}) == 0, other
    assert pretraining_epochs({**auto, "pretrain_epochs": 3}) == 3
    assert pretraining_epochs({**auto, "pretrain_epochs": 0}) == 0
    check_options({**auto, "embeddings": "vectors.txt"})  # auto gives way; an explicit number is refused
    with pytest.raises(UserError, match="give it without --init-from and --embeddings"):
        check_options({**auto, "pretrain_epochs": 2, "embeddings": "vectors.txt"})
    train = write_jsonl(tmp_path / "train.jsonl", sentiment_rows(40, seed=0))
    for bad in ("some", "-1"):
        result = CliRunner().invoke(sentiment, ["train", "--run-dir", str(tmp_path / "run"), "--train-file", train,
                                                "--pretrain-epochs", bad])
        assert result.exit_code == 2 and "is neither 'auto' nor a number of epochs" in result.output, result.output
        assert not (tmp_path / "run").exists()
