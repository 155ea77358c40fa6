"""tensorflow-datasets, with a fast, clear failure where it cannot download."""

import socket
import urllib.parse

from .errors import DataError

LOCAL_FILES_HINT = "use local files instead: --train-file F --valid-file F"


def _reachable(url, timeout=5.0):
    host = urllib.parse.urlparse(url).hostname
    if not host:
        return True  # nothing to probe; let tfds try
    port = 443 if url.startswith("https") else 80
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except OSError:
        return False


def tfds_builder(name, data_dir=None):
    """tfds.builder(name) in `data_dir`, else in TFDS_DATA_DIR as it is now; a DataError for an unknown name."""
    import os

    import tensorflow_datasets as tfds

    # tfds reads TFDS_DATA_DIR once, when it is imported; a later setting (a notebook, a test) counts here too.
    try:
        return tfds.builder(name, data_dir=data_dir or os.environ.get("TFDS_DATA_DIR"))
    except Exception as err:  # tfds raises several types for unknown names
        raise DataError(f"tfds:{name}", f"unknown tensorflow-datasets name ({err}); {LOCAL_FILES_HINT}") from None


def load_tfds(name, splits, data_dir=None, as_supervised=True, shuffle_files_seed=None):
    """tfds.load(name, split=splits), or a DataError within seconds when offline.

    A prepared copy in `data_dir` (or tfds' default) is used without network.
    `shuffle_files_seed`: read the split's file shards in an order of this seed,
    reshuffled each epoch (streaming); None: in their order.
    """
    import tensorflow_datasets as tfds

    builder = tfds_builder(name, data_dir)
    if not builder.is_prepared():
        homepage = builder.info.homepage or ""
        if not _reachable(homepage):
            raise DataError(
                f"tfds:{name}",
                f"not downloaded yet and its source cannot be reached (no network?); {LOCAL_FILES_HINT}",
            )
        try:
            builder.download_and_prepare()
        except Exception as err:
            raise DataError(f"tfds:{name}", f"download failed ({err}); {LOCAL_FILES_HINT}") from None
    if shuffle_files_seed is None:
        return builder.as_dataset(split=splits, as_supervised=as_supervised)
    return builder.as_dataset(split=splits, as_supervised=as_supervised, shuffle_files=True,
                              read_config=tfds.ReadConfig(shuffle_seed=shuffle_files_seed,
                                                          shuffle_reshuffle_each_iteration=True))
