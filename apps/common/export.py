"""Atomic, versioned SavedModel exports in TensorFlow Serving's layout.

    <export_base>/<app>/<version>/   one SavedModel per version, never overwritten
    <export_base>/models.config      model_config_list naming every exported app

A version is written under a hidden, non-numeric name beside its target and
renamed into place when complete, so TensorFlow Serving (which only loads
numeric directories) never sees half of one.
"""

import os
import pathlib
import shutil

from .errors import UserError
from .rundir import atomic_write_text

TMP_PREFIX = ".incomplete-"


def _versions(app_dir):
    return sorted(int(p.name) for p in app_dir.iterdir() if p.name.isdigit()) if app_dir.exists() else []


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_abandoned(app_dir):
    """Temporary directories left by an export that was killed."""
    for path in app_dir.glob(TMP_PREFIX + "*"):
        try:
            pid = int(path.name.rsplit("-", 1)[-1])
        except ValueError:
            continue
        if not _pid_alive(pid):
            shutil.rmtree(path, ignore_errors=True)


def export_versioned(write, export_base, app, version=None, serving_root="/models"):
    """Call write(tmp_dir) to write a SavedModel, then publish it as the next version.

    Returns the version directory. An existing version is an error, never overwritten.
    """
    app_dir = pathlib.Path(export_base) / app
    app_dir.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(app_dir)
    if version is None:
        existing = _versions(app_dir)
        version = existing[-1] + 1 if existing else 1
    if version < 1:
        raise UserError(f"--version must be a positive integer, got {version}")
    target = app_dir / str(version)
    if target.exists():
        raise UserError(f"{target} exists already; versions are never overwritten (omit --version for the next one)")
    tmp = app_dir / f"{TMP_PREFIX}{version}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        write(str(tmp))
        os.rename(tmp, target)  # atomic on one file system
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    write_models_config(export_base, serving_root)
    return target


def write_models_config(export_base, serving_root="/models"):
    """TensorFlow Serving's model_config_list for every app with a version."""
    base = pathlib.Path(export_base)
    apps = sorted(p.name for p in base.iterdir() if p.is_dir() and _versions(p))
    entries = "".join(
        f'  config {{\n    name: "{name}"\n    base_path: "{serving_root}/{name}"\n'
        f'    model_platform: "tensorflow"\n  }}\n'
        for name in apps
    )
    atomic_write_text(base / "models.config", f"model_config_list {{\n{entries}}}\n")
