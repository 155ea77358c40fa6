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


def _even_data(tmp_path):
    """Each app's training and validation data, made so that every batch is full and of one length.

    Keras averages each replica's mean loss with equal weight, so one replica's half of a ragged batch (or
    of a batch with more padding on one side) would count differently from one replica's whole batch.
    No dropout: each replica draws its own masks, so dropout differs by design (the arithmetic is checked).
    """
    from tests.fixtures import PEOPLE, PLACES, sentiment_rows, write_conll, write_jsonl

    def sentences(n, offset):
        return [([PEOPLE[(i + offset) % 5].split()[0], "lives", "in", PLACES[i % 5].split()[0], "."],
                 ["I-PER", "O", "O", "I-LOC", "O"]) for i in range(n)]

    def pairs(path, n):
        words = ["cat", "dog", "house", "tree", "car"]
        path.write_text("".join(f"the {words[i % 5]} is here .\tel {words[(i + 2) % 5]} está aquí .\n"
                                for i in range(n)))
        return str(path)

    tunes = tmp_path / "tunes"
    tunes.mkdir()
    # No rests: 31 notes and the start, two whole windows of the event representation.
    notes = ["C2", "D2", "E4", "G2", "A2", "c4", "B,2", "^F2", "e2"]
    for i in range(3):
        (tunes / f"set{i}.abc").write_text("\n".join(
            f"X:{j}\nT:T{i}.{j}\nM:4/4\nL:1/16\nK:C\n" + " ".join(notes[(7 * i + 3 * j + k * k) % 9]
                                                                  for k in range(31)) + "\n"
            for j in range(3)))
    sentiment = write_jsonl(tmp_path / "s.jsonl", sentiment_rows(200, seed=0))
    # Texts cut to 6 tokens fall in one length bucket. The n-gram bag runs at its plain learning rate: at the
    # default 30x, the last-bit differences of summing two replicas' gradients grow past 1e-4 within an epoch
    # (measured: validation loss 0.48761 vs 0.48789), while at 1x they stay below 1e-6. Sentiment trains
    # adversarially (its own training step, apps.common.adversarial), NER with Keras' step.
    return {
        "sentiment": ["--train-file", sentiment, "--pretrain-epochs", "0", "--epochs", "2", "--units", "8",
                      "--embedding-dim", "8", "--max-tokens", "100", "--max-length", "6", "--batch-size", "10",
                      "--dropout", "0", "--ngram-dropout", "0", "--ngram-buckets", "512", "--ngram-scale", "1",
                      "--adversarial-epsilon", "0.05"],
        "ner": ["--train-file", write_conll(tmp_path / "train.txt", sentences(48, 0)),
                "--valid-file", write_conll(tmp_path / "valid.txt", sentences(8, 1)), "--epochs", "2",
                "--units", "8", "--word-dim", "8", "--batch-size", "8", "--dropout", "0", "--word-dropout", "0",
                "--recurrent-dropout", "0", "--ensemble", "1"],
        "translation": ["--train-file", pairs(tmp_path / "pairs.tsv", 40),
                        "--valid-file", pairs(tmp_path / "valid.tsv", 8), "--epochs", "2", "--units", "8",
                        "--batch-size", "8", "--dropout", "0"],
        "music": ["--data-dir", str(tunes), "--epochs", "2", "--units", "8", "--layers", "1", "--window", "16",
                  "--batch-size", "2", "--representation", "events", "--transpositions", "0", "--dropout", "0"],
    }


def test_mirrored_on_two_cpu_replicas_matches_one_replica_for_every_app_and_continues(tmp_path):
    data = _even_data(tmp_path)
    # The same logical devices either way; only the strategy differs.
    runs = {f"{app}-{how}": (app, [*args, "--seed", "1", "--cpu-replicas", "2", *extra])
            for app, args in data.items()
            for how, extra in (("one", []), ("mirrored", ["--strategy", "mirrored"]))}
    # Separate processes (the CPU split happens before TensorFlow starts), all at once.
    procs = {name: _start(app, ["--run-dir", str(tmp_path / name), *args]) for name, (app, args) in runs.items()}
    try:
        for name, proc in procs.items():
            out, err = proc.communicate(timeout=400)
            assert proc.returncode == 0, (name, out[-1000:], err[-3000:])
    finally:
        for proc in procs.values():
            proc.kill()
    for app in data:
        one, two = _epochs(tmp_path / f"{app}-one" / "metrics.csv"), _epochs(tmp_path / f"{app}-mirrored" / "metrics.csv")
        assert len(one) == len(two) == 2, app
        for a, b in zip(one, two):
            for key in a:
                if key.endswith("loss"):
                    assert float(a[key]) == pytest.approx(float(b[key]), rel=1e-4, abs=1e-5), (app, key, a, b)
    # A finished mirrored run given more epochs continues from where it stopped.
    app, args = runs["sentiment-mirrored"]
    proc = _start(app, ["--run-dir", str(tmp_path / "sentiment-mirrored"), *args, "--epochs", "3"])
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, (out[-1000:], err[-3000:])
    epochs = _epochs(tmp_path / "sentiment-mirrored" / "metrics.csv")
    assert [int(e["epoch"]) for e in epochs] == [0, 1, 2]
    assert float(epochs[2]["loss"]) < float(epochs[0]["loss"])


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _workers(tmp_path, rows, run_dirs, epochs, extra=()):
    cluster = {"worker": [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]}
    procs = []
    for index, run_dir in enumerate(run_dirs):
        config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        cmd = [sys.executable, "-m", "apps.sentiment", "train", "--run-dir", str(run_dir),
               "--train-file", rows, "--epochs", str(epochs), "--units", "8", "--embedding-dim", "8",
               "--max-tokens", "100", "--batch-size", "8", "--strategy", "multi-worker", "--ngram-buckets", "1024",
               *extra]
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


def test_two_workers_streaming_four_shards_each_read_only_their_own(tmp_path):
    from tests.fixtures import sentiment_rows, write_jsonl

    rows = sentiment_rows(160, seed=0)
    (tmp_path / "shards").mkdir()
    for i in range(4):
        write_jsonl(tmp_path / "shards" / f"part-{i}.jsonl", rows[i::4])
    valid = write_jsonl(tmp_path / "valid.jsonl", sentiment_rows(40, seed=1))
    chief = tmp_path / "run"
    outputs = _workers(tmp_path, str(tmp_path / "shards" / "part-*.jsonl"), [chief, chief], epochs=1,
                       extra=["--pipeline", "stream", "--valid-file", valid])
    assert "worker 0 of 2 streams 2 of 4 training files (part-0.jsonl, part-2.jsonl)" in outputs[0], outputs[0][-2000:]
    assert "worker 1 of 2 streams 2 of 4 training files (part-1.jsonl, part-3.jsonl)" in outputs[1], outputs[1][-2000:]
    assert [int(r["epoch"]) for r in _epochs(chief / "metrics.csv")] == [0]
