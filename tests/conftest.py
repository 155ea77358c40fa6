import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("PYTHONHASHSEED", "0")
# The music app caches parsed tunes; tests keep theirs out of the user's home.
os.environ["SEQAPPS_CACHE"] = tempfile.mkdtemp(prefix="seqapps-cache-")

import apps  # noqa: E402,F401  binds `datasets` to ours before any test imports it


def pytest_report_header(config):
    import keras

    return f"backend={keras.backend.backend()}"
