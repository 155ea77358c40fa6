import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("PYTHONHASHSEED", "0")

import apps  # noqa: E402,F401  binds `datasets` to ours before any test imports it


def pytest_report_header(config):
    import keras

    return f"backend={keras.backend.backend()}"
