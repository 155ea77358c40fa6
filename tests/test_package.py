"""Our `datasets` package must win over the PyPI package of the same name."""

import os
import subprocess
import sys

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
    for path in (apps.PROJECT_ROOT / "layers").glob("*.py"):
        source = path.read_text()
        assert "import tensorflow" not in source and "tf." not in source, path
