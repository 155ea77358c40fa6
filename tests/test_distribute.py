"""tf.distribute in the shared harness: mirrored on 2 logical CPUs for every app, and two workers on 127.0.0.1.

Splitting the CPU must happen before TensorFlow starts, so each check runs in
a fresh process.
"""

import csv
import json
import socket
import subprocess
import sys

import pytest

import apps
from apps.common.distribute import is_chief, task_of
from apps.common.errors import UserError

from tests.fixtures import user_environment

pytestmark = pytest.mark.tf_only


def test_chief_is_the_chief_task_or_worker_zero_without_one():
    cluster = {"worker": ["a:1", "b:2"]}
    assert is_chief("")
    assert is_chief(json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 0}}))
    assert not is_chief(json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 1}}))
    with_chief = {"chief": ["c:3"], **cluster}
    assert not is_chief(json.dumps({"cluster": with_chief, "task": {"type": "worker", "index": 0}}))
    assert is_chief(json.dumps({"cluster": with_chief, "task": {"type": "chief", "index": 0}}))
    with pytest.raises(UserError, match="TF_CONFIG is not a JSON object"):
        task_of("{not json")


def _start(app, args):
    env = user_environment()
    return subprocess.Popen([sys.executable, "-m", f"apps.{app}", "train", *args], cwd=apps.PROJECT_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _epochs(metrics_csv):
    return list(csv.DictReader(open(metrics_csv)))


def test_mirrored_on_two_cpu_replicas_trains_every_app_and_matches_one_replica(tmp_path):
    from tests.fixtures import ner_sentences, sentiment_rows, write_conll, write_jsonl
    from tests.test_music import abc_tune

    mirrored = ["--strategy", "mirrored", "--cpu-replicas", "2"]
    # Texts cut to 6 tokens fall in one length bucket: every batch is full and splits evenly
    # (Keras weights each replica's mean loss equally, so a ragged last batch would differ slightly).
    rows = write_jsonl(tmp_path / "s.jsonl", sentiment_rows(200, seed=0))
    small = ["--train-file", rows, "--epochs", "2", "--units", "8", "--embedding-dim", "8", "--max-tokens", "100",
             "--max-length", "6", "--batch-size", "10", "--dropout", "0", "--seed", "1"]
    tunes = tmp_path / "tunes"
    tunes.mkdir()
    for i in range(3):
        (tunes / f"set{i}.abc").write_text("\n".join(abc_tune(10 * i + j, f"T{i}.{j}") for j in range(3)))
    (tmp_path / "pairs.tsv").write_text("".join(f"{a}\t{b}\n" for a, b in
                                               [("I am here.", "Estoy aquí."), ("Go!", "¡Vete!")] * 20))
    runs = {
        "sentiment-one": ("sentiment", [*small, "--cpu-replicas", "2"]),
        "sentiment": ("sentiment", [*small, *mirrored]),
        "ner": ("ner", ["--train-file", write_conll(tmp_path / "train.txt", ner_sentences(40, seed=0)),
                        "--epochs", "1", "--units", "8", "--word-dim", "8", "--batch-size", "8", *mirrored]),
        "translation": ("translation", ["--train-file", str(tmp_path / "pairs.tsv"), "--epochs", "1",
                                        "--units", "8", *mirrored]),
        "music": ("music", ["--data-dir", str(tunes), "--epochs", "1", "--units", "8", "--layers", "1",
                            "--window", "16", *mirrored]),
    }
    # Separate processes (the CPU split happens before TensorFlow starts), all at once.
    procs = {name: _start(app, ["--run-dir", str(tmp_path / name), *args]) for name, (app, args) in runs.items()}
    try:
        for name, proc in procs.items():
            out, err = proc.communicate(timeout=400)
            assert proc.returncode == 0, (name, out[-1000:], err[-3000:])
            assert (tmp_path / name / "model.keras").exists(), name
    finally:
        for proc in procs.values():
            proc.kill()
    one, two = _epochs(tmp_path / "sentiment-one" / "metrics.csv"), _epochs(tmp_path / "sentiment" / "metrics.csv")
    assert len(one) == len(two) == 2
    for a, b in zip(one, two):
        for key in ("loss", "val_loss", "val_accuracy"):
            assert float(a[key]) == pytest.approx(float(b[key]), rel=1e-4, abs=1e-5), (key, a, b)
    # Restoring a distributed run's backup is tested with two workers below.


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _workers(tmp_path, rows, run_dirs, epochs):
    cluster = {"worker": [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]}
    procs = []
    for index, run_dir in enumerate(run_dirs):
        config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        cmd = [sys.executable, "-m", "apps.sentiment", "train", "--run-dir", str(run_dir),
               "--train-file", rows, "--epochs", str(epochs), "--units", "8", "--embedding-dim", "8",
               "--max-tokens", "100", "--batch-size", "8", "--strategy", "multi-worker"]
        scratch_parent = tmp_path / "tmp"  # where the non-chief worker's scratch directory goes
        scratch_parent.mkdir(exist_ok=True)
        env = {**user_environment(), "TF_CONFIG": config, "TMPDIR": str(scratch_parent)}
        procs.append(subprocess.Popen(cmd, cwd=apps.PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True))
    outputs = []
    try:
        for proc in procs:
            outputs.append(proc.communicate(timeout=240)[0])
    finally:
        for proc in procs:
            proc.kill()
    assert [p.returncode for p in procs] == [0, 0], [o[-2000:] for o in outputs]
    return outputs


def test_two_workers_train_together_only_the_chief_writes_and_a_restart_resumes(tmp_path):
    from tests.fixtures import sentiment_rows, write_jsonl

    rows = write_jsonl(tmp_path / "s.jsonl", sentiment_rows(120, seed=0))
    chief = tmp_path / "run0"
    # First each worker names its own --run-dir, so that the test sees who wrote what.
    outputs = _workers(tmp_path, rows, [chief, tmp_path / "run1"], epochs=1)
    assert (chief / "model.keras").exists() and (chief / "config.json").exists()
    assert [int(r["epoch"]) for r in _epochs(chief / "metrics.csv")] == [0]
    assert not (tmp_path / "run1").exists(), sorted(str(p) for p in (tmp_path / "run1").rglob("*"))
    assert "worker done" in outputs[1]
    # Restarted as on a real cluster (one shared directory) with more epochs: both restore the
    # chief's backup and go on from epoch 1.
    _workers(tmp_path, rows, [chief, chief], epochs=2)
    assert [int(r["epoch"]) for r in _epochs(chief / "metrics.csv")] == [0, 1]
    assert (tmp_path / "tmp").is_dir() and not list((tmp_path / "tmp").glob("seqapps-worker-*"))
