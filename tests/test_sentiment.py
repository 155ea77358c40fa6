"""apps.sentiment end to end on a tiny made-up dataset."""

import csv
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

import apps
from apps.sentiment.cli import cli
from tests.fixtures import SENTIMENT_SMALL
from tests.fixtures import user_environment

pytestmark = pytest.mark.tf_only
SMALL = SENTIMENT_SMALL


def invoke(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    return result


@pytest.fixture
def trained(sentiment_trained):
    return sentiment_trained


def test_run_directory_holds_everything(trained):
    _, run_dir, _ = trained
    for name in ("config.json", "model.keras", "checkpoints/best.keras", "vocabulary/tokens.txt", "metrics.csv"):
        assert (run_dir / name).exists(), name
    assert any((run_dir / "logs").rglob("events.out.tfevents*"))
    config = json.loads((run_dir / "config.json").read_text())
    assert config["app"] == "sentiment" and config["options"]["units"] == 8
    rows = list(csv.DictReader(open(run_dir / "metrics.csv")))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2, 3]
    assert {"val_accuracy", "val_loss", "elapsed_seconds"} <= set(rows[0])


def test_evaluate_prints_and_writes_all_metrics(trained):
    _, run_dir, valid = trained
    result = invoke("evaluate", "--run-dir", run_dir, "--test-file", valid)
    assert result.exit_code == 0, result.output
    for word in ("accuracy", "precision", "recall", "f1", "roc_auc", "confusion matrix"):
        assert word in result.output
    metrics = json.loads((run_dir / "evaluation.json").read_text())
    assert metrics["examples"] == 60
    matrix = metrics["confusion_matrix"]["rows_true_columns_predicted"]
    assert sum(map(sum, matrix)) == 60
    assert metrics["accuracy"] == pytest.approx((matrix[0][0] + matrix[1][1]) / 60)
    assert metrics["accuracy"] >= 0.9, metrics  # the tiny task is easy: the model must have learnt it


def test_predict_from_run_and_stdin(trained):
    _, run_dir, _ = trained
    result = CliRunner().invoke(cli, ["predict", "--run-dir", str(run_dir), "--input-file", "-",
                                      "great wonderful film"], input="worst movie ever , bad\n")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("positive\t") and lines[1].startswith("negative\t"), lines


def test_export_is_versioned_atomic_and_predicts_like_the_run(trained):
    base, run_dir, _ = trained
    export_base = base / "saved_models"
    first = invoke("export", "--run-dir", run_dir, "--export-base", export_base)
    second = invoke("export", "--run-dir", run_dir, "--export-base", export_base)
    assert first.exit_code == second.exit_code == 0, first.output + second.output
    assert first.output.strip().splitlines()[-1] == str(export_base / "sentiment" / "1")
    assert second.output.strip().splitlines()[-1] == str(export_base / "sentiment" / "2")
    assert sorted(p.name for p in (export_base / "sentiment").iterdir()) == ["1", "2"]
    again = invoke("export", "--run-dir", run_dir, "--export-base", export_base, "--version", 1)
    assert again.exit_code != 0 and "never overwritten" in again.output
    config = (export_base / "models.config").read_text()
    assert 'name: "sentiment"' in config and 'base_path: "/models/sentiment"' in config

    # The exported graph gives what the run directory gives (hostile input and a process without our code:
    # tests/test_serving_contract.py).
    local = invoke("predict", "--run-dir", run_dir, "great wonderful film")
    from_export = invoke("predict", "--model", export_base / "sentiment" / "2", "great wonderful film")
    assert local.output.split("\t")[:2] == from_export.output.split("\t")[:2]


def test_user_errors_are_one_line_and_leave_nothing(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok", "label": 1}\n{"text": "x", "label": 0\n')
    run_dir = tmp_path / "run"
    cases = [
        (["--train-file", bad], "bad.jsonl:2: not valid JSON"),
        (["--train-file", bad, "--epochs", "zero"], "Invalid value for '--epochs'"),
        (["--train-file", bad, "--cell", "transformer"], "Invalid value for '--cell'"),
        (["--train-file", bad, "--branch-patience", "soon"], "'soon' is neither 'off' nor a number of epochs"),
        (["--train-file", bad, "--ema-momentum", "0.9"], "give --branch-patience off with --ema-momentum"),
    ]
    for args, message in cases:
        result = CliRunner().invoke(cli, ["train", "--run-dir", str(run_dir), *map(str, args)])
        assert result.exit_code != 0
        lines = [l for l in result.output.strip().splitlines() if l.strip()]
        assert len(lines) == 1 and lines[0].startswith("Error:") and message in lines[0], result.output
        assert not run_dir.exists()
    # And as a user runs it: one line on stderr, no traceback.
    proc = subprocess.run([sys.executable, "-m", "apps.sentiment", "train", "--run-dir", str(run_dir),
                           "--train-file", str(tmp_path / "missing.jsonl")], cwd=apps.PROJECT_ROOT,
                          capture_output=True, text=True, timeout=120,
                          env=user_environment())
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [f"Error: {tmp_path / 'missing.jsonl'}: no such file"], proc.stderr
    assert not run_dir.exists()


def test_offline_tfds_fails_fast_with_a_hint(tmp_path, monkeypatch):
    import datasets.tfds_loader as loader

    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    monkeypatch.setattr(loader, "_reachable", lambda url, timeout=5.0: False)
    result = invoke("train", "--run-dir", tmp_path / "run", "--dataset", "imdb_reviews")
    assert result.exit_code != 0
    assert "tfds:imdb_reviews" in result.output and "--train-file" in result.output
    assert not (tmp_path / "run").exists()


def test_a_run_of_another_app_or_other_options_is_refused(trained, tmp_path):
    _, run_dir, valid = trained
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"app": "ner", "format": 1, "options": {}}))
    result = invoke("evaluate", "--run-dir", other, "--test-file", valid)
    assert result.exit_code != 0 and "'ner' app, not 'sentiment'" in result.output
    result = invoke("train", "--run-dir", run_dir, "--train-file", valid, "--units", 16)
    assert result.exit_code != 0 and "other options" in result.output


def test_the_ensemble_averages_its_branches_log_odds_and_trains_each_as_a_classifier(trained):
    import keras
    import numpy as np

    from apps.common.app import load_run
    from apps.sentiment.cli import APP
    from apps.sentiment.model import BranchCrossentropy, positive_probability

    _, run_dir, _ = trained
    model = load_run(APP, run_dir).model
    assert model.output.shape[-1] == 3  # two recurrent branches (the fixture's) and the n-gram bag
    ids = np.array([[5, 6, 7, 0], [8, 9, 0, 0]])
    logits = keras.ops.convert_to_numpy(model(ids))
    probability = keras.ops.convert_to_numpy(positive_probability(model, ids))
    assert np.allclose(probability, 1 / (1 + np.exp(-logits.mean(axis=1))), atol=1e-6)
    labels = np.array([1.0, 0.0])
    by_hand = np.mean([np.mean([np.logaddexp(0, -z) if y else np.logaddexp(0, z) for z in row])
                       for y, row in zip(labels, logits)])
    assert np.isclose(float(BranchCrossentropy()(labels, logits)), by_hand, atol=1e-5)
    rows = list(csv.DictReader(open(run_dir / "metrics.csv")))
    assert {"val_rnn_0_accuracy", "val_rnn_1_accuracy", "val_ngrams_accuracy"} <= set(rows[-1])


def test_each_branch_stops_at_its_own_best_epoch(trained):
    """--branch-patience (the fixture's 3): the branches split the model's weights between them, each stops once
    its own validation accuracy has gone a patience without bettering its best, and the run with them."""
    from apps.common.app import load_run
    from apps.common.training import BranchEarlyStopping
    from apps.sentiment.cli import APP
    from apps.sentiment.config import DEFAULTS
    from apps.sentiment.model import branch_stopping

    _, run_dir, _ = trained
    run = load_run(APP, run_dir)
    patience, branches = branch_stopping(run.options)
    assert patience == 3 == run.options["branch_patience"] and DEFAULTS["branch_patience"] == 2
    owned = [id(w) for names in branches.values() for name in names for w in run.model.get_layer(name).weights]
    assert sorted(owned) == sorted(id(w) for w in run.model.weights)  # every weight in exactly one branch
    rows = list(csv.DictReader(open(run_dir / "metrics.csv")))
    rule = BranchEarlyStopping(branches, patience)
    for row in rows:
        rule._account(row, int(row["epoch"]))
        rule.frozen.update(rule._due())
    stopped_all = len(rule.frozen) == len(branches)
    assert len(rows) == 4 or stopped_all  # the fixture asks for 4 epochs with --patience 10
    saved = sorted(path.stem for path in (run_dir / "checkpoints" / "branches").iterdir())
    assert saved == sorted(branches)


def test_one_branch_without_ngrams_is_the_single_classifier_of_older_runs(tmp_path):
    """Trained adversarially (--adversarial-epsilon), which adds one layer and changes nothing else."""
    from tests.fixtures import sentiment_rows, write_jsonl

    train = write_jsonl(tmp_path / "t.jsonl", sentiment_rows(80, seed=0))
    result = invoke("train", "--run-dir", tmp_path / "run", "--train-file", train, "--epochs", 1,
                    "--recurrent-branches", 1, "--ngrams", 0, "--adversarial-epsilon", 0.05, *SMALL)
    assert result.exit_code == 0, result.output
    from apps.common.adversarial import AdversarialModel
    from apps.common.app import load_run
    from apps.sentiment.cli import APP

    model = load_run(APP, tmp_path / "run").model
    assert model.layers[-1].name == "probability" and model.output.shape[-1] == 1
    assert type(model) is AdversarialModel and model.get_layer("embedding_perturbation").epsilon == 0.05
    assert [layer.name for layer in model.layers[:4]] == ["token_ids", "embedding", "embedding_perturbation",
                                                          "embedding_dropout"]
    result = invoke("predict", "--run-dir", tmp_path / "run", "great wonderful film")
    assert result.exit_code == 0 and result.output.split("\t")[0] in ("positive", "negative", "0", "1")


def test_naive_bayes_counts_each_ngram_once_per_text_and_gives_wang_and_mannings_ratios():
    import numpy as np
    import tensorflow as tf

    from apps.sentiment.model import naive_bayes_log_ratios, ngram_class_counts
    from layers import HashedNgramBag

    bag = HashedNgramBag(6, order=2, buckets=7)
    bag.build((None, None))
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


def test_the_sentiment_bag_starts_as_naive_bayes(tmp_path):
    import numpy as np
    import tensorflow as tf

    from apps.common.options import RunOptions
    from apps.sentiment.config import DEFAULTS
    from apps.sentiment.model import build_model, naive_bayes_log_ratios, naive_bayes_start, ngram_class_counts
    from tests.fixtures import sentiment_rows, write_jsonl

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
    assert json.loads((tmp_path / "run" / "config.json").read_text())["options"]["ngram_init"] == "naive-bayes"
