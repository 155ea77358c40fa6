"""Package-wide rules: our `datasets` wins over PyPI's, keras.ops in layers, nothing unsafe."""

import os
import re
import subprocess
import sys

import pytest

import apps


def test_apps_binds_our_datasets_even_when_another_comes_first(tmp_path):
    impostor = tmp_path / "site" / "datasets"
    impostor.mkdir(parents=True)
    (impostor / "__init__.py").write_text("IMPOSTOR = True\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), str(apps.PROJECT_ROOT)])}
    check = "import datasets; print(getattr(datasets, '__seqapps__', False), datasets.__file__)"
    # Without our guard the impostor, first on the path, is what `import datasets` finds ...
    plain = subprocess.run([sys.executable, "-c", check], env=env, cwd=tmp_path,
                           capture_output=True, text=True, check=True)
    assert plain.stdout.startswith("False")
    # ... and after `import apps` it is ours.
    guarded = subprocess.run([sys.executable, "-c", "import apps; " + check], env=env, cwd=tmp_path,
                             capture_output=True, text=True, check=True)
    assert guarded.stdout.startswith("True"), guarded.stdout
    assert str(apps.PROJECT_ROOT / "datasets") in guarded.stdout


def test_a_foreign_datasets_already_imported_is_a_clear_error(tmp_path):
    impostor = tmp_path / "datasets"
    impostor.mkdir()
    (impostor / "__init__.py").write_text("")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(apps.PROJECT_ROOT)])}
    proc = subprocess.run([sys.executable, "-c", "import datasets, apps"], env=env, cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "another package named 'datasets'" in proc.stderr


def test_layers_use_keras_ops_only():
    # keras_internals.py is the fence of private Keras APIs; its TensorFlow-only workarounds
    # (for the apps' tf.distribute) import TensorFlow inside the functions the apps call.
    for path in (apps.PROJECT_ROOT / "layers").glob("*.py"):
        if path.name == "keras_internals.py":
            continue
        source = path.read_text()
        assert "import tensorflow" not in source and "tf." not in source, path


def _project_sources():
    for folder in ("apps", "layers", "datasets", "bench"):
        yield from (apps.PROJECT_ROOT / folder).rglob("*.py")


def test_nothing_unpickles_and_keras_files_load_in_safe_mode():
    sources = {path: path.read_text() for path in _project_sources()}
    assert len(sources) > 20
    for path, source in sources.items():
        assert not re.search(r"\bimport (c?pickle|dill|joblib)\b|\bpickle\.loads?\(", source), path
        assert "allow_pickle=True" not in source, path
        assert "safe_mode=False" not in source and "enable_unsafe_deserialization" not in source, path


@pytest.mark.parametrize("config,message", [
    ({"app": "ner", "format": 1, "options": {}}, "a run directory of the 'ner' app, not 'music'"),
    ({"app": "music", "format": 0, "options": {}}, "run directory format 0, this version reads 1"),
    ({"options": {}}, "a run directory of the 'None' app"),
])
def test_run_directories_of_other_apps_or_formats_are_refused(tmp_path, config, message):
    import json

    from apps.common.errors import UserError
    from apps.common.rundir import RunDir

    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(UserError, match=re.escape(message)):
        RunDir(tmp_path, "music").trained_options()
    with pytest.raises(UserError, match=re.escape(message)):
        RunDir(tmp_path, "music").start({"a": 1}, set())
    assert json.loads((tmp_path / "config.json").read_text()) == config, "a refused run is left as it was"


def test_a_run_directory_takes_one_training_at_a_time(tmp_path):
    """A second training into a directory in use is refused; the lock dies with its process, even by SIGKILL."""
    import signal
    import subprocess
    import sys

    from apps.common.errors import UserError
    from apps.common.rundir import RunDir

    holder = subprocess.Popen(
        [sys.executable, "-c", "import time; from apps.common.rundir import RunDir; "
         f"run = RunDir({str(tmp_path)!r}, 'music'); run.start({{'a': 1}}, set()); "
         "print('started', flush=True); time.sleep(60)"],
        cwd=apps.PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "started"
        with pytest.raises(UserError, match=rf"another training is writing to this run directory \(pid {holder.pid}\)"):
            RunDir(tmp_path, "music").start({"a": 1}, set())
        assert RunDir(tmp_path / "other", "music").start({"a": 1}, set()) is False  # other directories are free
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    run = RunDir(tmp_path, "music")
    assert run.start({"a": 1}, set()) is True  # the killed holder left no lock behind
    assert RunDir(tmp_path, "music").start({"a": 1}, set()) is True  # the same process may resume its own run


def test_a_run_from_before_an_option_existed_resumes_at_that_options_default(tmp_path):
    import json

    from apps.common.errors import UserError
    from apps.common.rundir import RunDir

    old = {"app": "music", "format": 1, "options": {"units": 46, "epochs": 5}}
    (tmp_path / "config.json").write_text(json.dumps(old))
    defaults = {"units": 256, "epochs": 10, "weight_noise": 0.0}
    with pytest.raises(UserError, match=re.escape("other options (weight_noise: 0.0 -> 0.1); to continue it, give the "
                                                  "values it was trained with")):
        RunDir(tmp_path, "music").start({"units": 46, "epochs": 5, "weight_noise": 0.1}, {"epochs"}, defaults)
    assert json.loads((tmp_path / "config.json").read_text()) == old, "a refused run is left as it was"
    with pytest.raises(UserError, match=re.escape("other options (weight_noise: None -> 0.0)")):
        RunDir(tmp_path, "music").start({"units": 46, "epochs": 5, "weight_noise": 0.0}, {"epochs"})  # no defaults
    run = RunDir(tmp_path, "music")
    assert run.start({"units": 46, "epochs": 8, "weight_noise": 0.0}, {"epochs"}, defaults) is True
    assert run.read_config() == {"units": 46, "epochs": 8, "weight_noise": 0.0}  # now recorded
    # A recorded option is compared as recorded, never replaced by the default.
    with pytest.raises(UserError, match=re.escape("other options (units: 46 -> 256)")):
        RunDir(tmp_path, "music").start({"units": 256, "epochs": 8, "weight_noise": 0.0}, {"epochs"}, defaults)


def test_a_file_of_the_run_that_moved_with_it_is_recorded_where_it_is_and_nothing_else(tmp_path):
    import json

    from apps.common.rundir import RunDir

    recorded = {"train_file": "/old/place/run/language_models/forward.txt", "epochs": 4}
    (tmp_path / "config.json").write_text(json.dumps({"app": "textgen", "format": 1, "options": recorded}))
    run = RunDir(tmp_path, "textgen")
    for other in ("/new/place/run/texts/forward.txt", "/new/place/run/language_models/backward.txt"):
        run.follow_move("train_file", other)  # another file: left for start to refuse
        assert run.read_config() == recorded
    run.follow_move("train_file", "/new/place/copy/language_models/forward.txt")
    assert run.read_config() == {**recorded, "train_file": "/new/place/copy/language_models/forward.txt"}
    RunDir(tmp_path / "none", "textgen").follow_move("train_file", "/x/language_models/forward.txt")
    assert not (tmp_path / "none").exists()  # nothing recorded, nothing written


def test_the_app_layer_keeps_its_shape():
    """The skeleton's rules (apps/common/app.py): thin CLIs, short functions, Keras internals fenced."""
    import ast
    import pathlib

    root = pathlib.Path(apps.PROJECT_ROOT)
    for cli_file in root.glob("apps/*/cli.py"):
        assert len(cli_file.read_text().splitlines()) < 120, cli_file
    long = []
    for path in [*root.glob("apps/**/*.py"), *root.glob("datasets/*.py"), *root.glob("layers/*.py")]:
        text = path.read_text()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef) and node.end_lineno - node.lineno >= 50:
                long.append(f"{path.relative_to(root)}:{node.name}")
        if path.name != "keras_internals.py":
            assert "keras.src" not in text and "._symbolic_build" not in text and "._distribute_strategy" not in text, \
                f"{path}: a Keras internal outside layers/keras_internals.py"
    assert not long, f"functions of 50 lines or more: {long}"
