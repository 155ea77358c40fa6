"""Crash safety and determinism, for every app.

Training killed with SIGKILL after an epoch continues from the last completed
epoch; an export killed at any moment never leaves an incomplete numbered
version; the same seed and data give the same metrics.
"""

import csv
import shutil
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

import apps
from tests.fixtures import NER_SMALL, SENTIMENT_SMALL, ner_sentences, sentiment_rows, write_conll, write_jsonl
from tests.fixtures import user_environment

pytestmark = pytest.mark.tf_only


def training_args(app, folder, tune_folder):
    """Arguments of a small `train` whose epochs last long enough to be killed between them."""
    if app == "sentiment":
        train = write_jsonl(folder / "train.jsonl", sentiment_rows(200, seed=0))
        return ["--train-file", train, "--seed", "3", *SENTIMENT_SMALL[:-4], "--batch-size", "4"]
    if app == "ner":
        train = write_conll(folder / "train.txt", ner_sentences(100, seed=0))
        return ["--train-file", train, *NER_SMALL[:-6], "--batch-size", "4", "--no-char-features"]
    if app == "translation":
        return ["--train-size", "300", "--units", "8", "--batch-size", "8"]
    return ["--data-dir", str(tune_folder), "--units", "16", "--layers", "1", "--window", "16", "--batch-size", "2"]


def cli_of(app):
    return __import__(f"apps.{app}.cli", fromlist=["cli"]).cli


def test_killed_training_resumes_from_last_completed_epoch(tmp_path, tune_folder):
    """Every app at once (the four trainings share the cores, which halves the wait), each killed after epoch 0."""
    env = user_environment()
    runs = {}
    for app in ("sentiment", "ner", "translation", "music"):
        folder = tmp_path / app
        folder.mkdir()
        args = ["train", "--run-dir", str(folder / "run"), "--epochs", "2", *training_args(app, folder, tune_folder)]
        proc = subprocess.Popen([sys.executable, "-m", f"apps.{app}", *args], cwd=apps.PROJECT_ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        runs[app] = (args, folder / "run", proc)
    deadline = time.monotonic() + 300
    waiting = set(runs)
    while waiting and time.monotonic() < deadline:
        for app in list(waiting):
            _, run_dir, proc = runs[app]
            metrics = run_dir / "metrics.csv"
            if proc.poll() is not None:
                waiting.discard(app)  # ended by itself: reported below
            elif metrics.exists() and len(metrics.read_text().strip().splitlines()) >= 2:  # header + epoch 0
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                waiting.discard(app)
        time.sleep(0.05)
    for app, (args, run_dir, proc) in runs.items():
        if proc.poll() is None:
            proc.kill()
        assert proc.returncode == -signal.SIGKILL, f"{app}: training ended before it could be killed"
        assert not (run_dir / "model.keras").exists(), app
        # The same command again (in this process: it is the files, not the process, that must carry over).
        done = CliRunner().invoke(cli_of(app), args, catch_exceptions=False)
        assert done.exit_code == 0, done.output
        epochs = [int(r["epoch"]) for r in csv.DictReader(open(run_dir / "metrics.csv"))]
        assert epochs == [0, 1], (app, epochs)  # continued after epoch 0; none repeated, none lost
        assert (run_dir / "model.keras").exists(), app


def complete(version_dir):
    names = {p.relative_to(version_dir).as_posix() for p in version_dir.rglob("*")}
    return {"saved_model.pb", "variables/variables.index"} <= names and any(
        n.startswith("variables/variables.data-") for n in names)


def test_killed_export_never_leaves_an_incomplete_version(sentiment_trained, tmp_path):
    _, run_dir, _ = sentiment_trained
    export_base = tmp_path / "saved_models"
    app_dir = export_base / "sentiment"
    env = user_environment()
    cmd = [sys.executable, "-m", "apps.sentiment", "export", "--run-dir", str(run_dir), "--export-base",
           str(export_base)]

    def temporary(name):
        return [p for p in app_dir.glob(".incomplete-*/" + name)] if app_dir.exists() else []

    # Kill as soon as the hidden directory exists, then once the graph is written but maybe not the variables.
    # The second moment lasts milliseconds: on a loaded machine the poll can miss it, and the
    # export then finishes; what it published is removed and the kill tried again.
    for moment in ("", "saved_model.pb"):
        for attempt in range(5):
            proc = subprocess.Popen(cmd, cwd=apps.PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and proc.poll() is None and not temporary(moment):
                time.sleep(0.005)
            if proc.poll() is None:
                break
            for published in [p for p in app_dir.iterdir() if p.name.isdigit()]:
                shutil.rmtree(published)
        assert proc.poll() is None, f"export finished before the moment {moment!r}, 5 times"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert temporary(""), "the kill should have left the hidden directory"
        assert not [p for p in app_dir.iterdir() if p.name.isdigit()], "no version may appear from a killed export"
    result = CliRunner().invoke(cli_of("sentiment"), cmd[3:], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in app_dir.iterdir()) == ["1"], "the next export removes what killed ones left"
    assert complete(app_dir / "1")
    assert 'name: "sentiment"' in (export_base / "models.config").read_text()


def tiny_training_args(app, folder, tune_folder):
    """A tiny one-epoch training of each app, with its dropout and shuffling on."""
    if app == "sentiment":
        return ["--train-file", write_jsonl(folder / "train.jsonl", sentiment_rows(100, seed=0)), *SENTIMENT_SMALL]
    if app == "ner":
        return ["--train-file", write_conll(folder / "train.txt", ner_sentences(60, seed=0)), *NER_SMALL]
    if app == "translation":
        return ["--train-size", "300", "--units", "8", "--batch-size", "16"]
    return ["--data-dir", str(tune_folder), "--units", "16", "--layers", "1", "--window", "16"]


@pytest.mark.parametrize("app", ["sentiment", "ner", "translation", "music"])
def test_an_interrupted_run_resumed_repeats_the_uninterrupted_run(app, tmp_path, tune_folder):
    """One epoch, then the same command with more: every figure of every epoch as in one run of two, to the
    last digit, with the apps' shuffling, dropout and (sentiment) the naive-Bayes pass before training. The
    first epochs of the two runs, separate trainings from the same seed, also show that every app seeds through
    apps.common.cli.seed_everything."""
    def train(name, epochs):
        args = ["train", "--run-dir", tmp_path / name, "--epochs", epochs, *tiny_training_args(app, tmp_path,
                                                                                             tune_folder)]
        result = CliRunner().invoke(cli_of(app), [str(a) for a in args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return [{k: v for k, v in row.items() if k != "elapsed_seconds"}
                for row in csv.DictReader(open(tmp_path / name / "metrics.csv"))]

    whole = train("whole", 2)
    train("resumed", 1)
    resumed = train("resumed", 2)
    assert [row["epoch"] for row in resumed] == ["0", "1"]
    assert "loss" in whole[0] and any(name.startswith("val_") for name in whole[0]), whole[0]
    assert resumed == whole
