import os
import tempfile

os.environ.setdefault("PYTHONHASHSEED", "0")
# The music app caches parsed tunes; tests keep theirs out of the user's home.
os.environ["SEQAPPS_CACHE"] = tempfile.mkdtemp(prefix="seqapps-cache-")

import apps  # noqa: E402,F401  binds `datasets` to ours before any test imports it
import pytest  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from tests.fixtures import (  # noqa: E402
    NER_SMALL, SENTIMENT_SMALL, abc_tune, made_up_names, ner_sentences, sentiment_rows, write_conll, write_jsonl,
    write_lines)

# One tiny trained run per app for the whole session: the app tests and the
# serving-contract test share them (training is most of the suite's time).


def _train(cli, *args):
    result = CliRunner().invoke(cli, ["train", *[str(a) for a in args]], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="session")
def sentiment_trained(tmp_path_factory):
    """(base folder, run dir, validation file) of 4 epochs on made-up reviews."""
    from apps.sentiment.cli import cli

    base = tmp_path_factory.mktemp("sentiment")
    train = write_jsonl(base / "train.jsonl.gz", sentiment_rows(240, seed=0), compress=True)
    valid = write_jsonl(base / "valid.jsonl", sentiment_rows(60, seed=1))
    run_dir = base / "run"
    _train(cli, "--run-dir", run_dir, "--train-file", train, "--valid-file", valid, "--epochs", 4, "--patience", 10,
           "--learning-rate", 0.02, "--recurrent-branches", 2, "--branch-patience", 3, *SENTIMENT_SMALL)
    return base, run_dir, valid


@pytest.fixture(scope="session")
def ner_trained(tmp_path_factory):
    """(base folder, run dir, validation file) of 6 epochs on made-up sentences."""
    from apps.ner.cli import cli

    base = tmp_path_factory.mktemp("ner")
    train = write_conll(base / "train.txt", ner_sentences(300, seed=0))
    valid = write_conll(base / "valid.txt", ner_sentences(60, seed=1))
    run_dir = base / "run"
    _train(cli, "--run-dir", run_dir, "--train-file", train, "--valid-file", valid, "--epochs", 6, *NER_SMALL)
    return base, run_dir, valid


@pytest.fixture(scope="session")
def translation_trained(tmp_path_factory):
    """(base folder, run dir) of 4 epochs on 3,000 generated dates."""
    from apps.translation.cli import cli

    base = tmp_path_factory.mktemp("translation")
    run_dir = base / "run"
    _train(cli, "--run-dir", run_dir, "--train-size", 3000, "--epochs", 4, "--units", 32, "--seed", 0,
           "--patience", 10)
    return base, run_dir


@pytest.fixture(scope="session")
def tune_folder(tmp_path_factory):
    """12 made-up ABC tunes in 4 files, and a file that is not MIDI."""
    folder = tmp_path_factory.mktemp("tunes")
    for i in range(4):
        (folder / f"set{i}.abc").write_text("\n".join(abc_tune(10 * i + j, f"Tune {i}.{j}") for j in range(3)))
    (folder / "broken.mid").write_bytes(b"MThd not really a midi file")
    return folder


@pytest.fixture(scope="session")
def music_trained(tune_folder, tmp_path_factory):
    """(run dir, training output) of 2 epochs on the tune folder."""
    from apps.music.cli import cli

    run_dir = tmp_path_factory.mktemp("music") / "run"
    result = _train(cli, "--run-dir", run_dir, "--data-dir", tune_folder, "--epochs", 2, "--units", 16, "--layers", 1,
                    "--window", 16)
    return run_dir, result.output


@pytest.fixture(scope="session")
def textgen_trained(tmp_path_factory):
    """(base folder, run dir, training names file) of 3 epochs on made-up names."""
    from apps.textgen.cli import cli

    base = tmp_path_factory.mktemp("textgen")
    names = write_lines(base / "names.txt", made_up_names(400, seed=0))
    run_dir = base / "run"
    _train(cli, "--run-dir", run_dir, "--train-file", names, "--epochs", 3, "--units", 24, "--layers", 1,
           "--embedding-dim", 8, "--learning-rate", 0.01, "--patience", 10)
    return base, run_dir, names


def pytest_report_header(config):
    import keras

    return f"backend={keras.backend.backend()}"


# On JAX every model call compiles, so the layer tests' largest kind x option
# matrices run there as a covering half (every kind with half the options,
# every option with half the kinds); TensorFlow runs them whole.
# test_jax_backend.py checks how many the JAX run leaves out.
JAX_HALVED = ("test_rnn_layer_matches_keras_cell", "test_fast_rnn_equals_keras_rnn_outputs_and_gradients")


# The suite runs on two pytest-xdist workers (setup.cfg). Tests that share the
# trained session fixtures stay on one worker, so each app trains once; the four
# longest self-contained tests (own subprocesses or clusters) queue on one worker
# so they do not crowd the shared-fixture worker's start.
SHARED_FIXTURES = {"sentiment_trained", "ner_trained", "translation_trained", "music_trained", "textgen_trained",
                   "exported"}
LONG_ALONE = {"test_layer_tests_pass_on_jax", "test_killed_training_resumes_from_last_completed_epoch",
              "test_mirrored_on_two_cpu_replicas_matches_one_replica_for_every_app_and_continues",
              "test_two_workers_train_together_only_the_chief_writes_and_a_restart_resumes",
              "test_two_workers_streaming_four_shards_each_read_only_their_own"}


def _xdist_groups(items):
    for item in items:
        if SHARED_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.xdist_group("shared-fixtures"))
        elif item.originalname in LONG_ALONE:
            item.add_marker(pytest.mark.xdist_group("long"))


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    _xdist_groups(items)
    import keras

    if keras.backend.backend() != "jax":
        return
    ranks = {}  # (test, axis) -> {value: rank in order of first appearance}

    def rank(test, axis, value):
        seen = ranks.setdefault((test, axis), {})
        return seen.setdefault(value, len(seen))

    kept, halved = [], []
    for item in items:
        if item.originalname in JAX_HALVED:
            option, kind = item.callspec.id.split("-", 1)  # ids are "<option>-<kind>"
            if (rank(item.originalname, "option", option) + rank(item.originalname, "kind", kind)) % 2:
                halved.append(item)
                continue
        kept.append(item)
    config.hook.pytest_deselected(items=halved)
    items[:] = kept
