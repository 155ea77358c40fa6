"""The seqapps applications: `python -m apps.<task> <command>`.

Importing `apps` binds the top-level name `datasets` to this project's
`datasets/` folder. The PyPI package of the same name (Hugging Face's) would
otherwise win whenever site-packages comes before our checkout on `sys.path`,
which is the case for an editable install run from another directory.

It also imports TensorFlow first, through `apps.tensorflow_logs`, so that
no command prints TensorFlow's C++ start-up lines.
"""

import importlib.util
import pathlib
import sys

from .tensorflow_logs import import_tensorflow

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent


def ensure_own_datasets():
    """Make `import datasets` resolve to this project's package; return it."""
    loaded = sys.modules.get("datasets")
    if loaded is not None:
        if getattr(loaded, "__seqapps__", False):
            return loaded
        raise ImportError(
            f"another package named 'datasets' was imported before seqapps "
            f"(from {getattr(loaded, '__file__', '?')}); import apps before it, "
            f"or run it in a separate process"
        )
    init = PROJECT_ROOT / "datasets" / "__init__.py"
    spec = importlib.util.spec_from_file_location(
        "datasets", init, submodule_search_locations=[str(init.parent)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["datasets"] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules["datasets"]
        raise
    return module


import_tensorflow()
ensure_own_datasets()
