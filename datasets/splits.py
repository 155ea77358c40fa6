"""The one validation carve every app uses.

The same seed and data give the same split in every app and every release:
the examples' order is shuffled with `random.Random(seed)`, and the first
max(1, round(N * fraction)) become validation. Runs trained before this
module existed carved exactly so, and their `--validation` evaluations
depend on getting the same split back.
"""

import random

from .errors import DataError


def carve(examples, fraction, seed, source, what="examples", minimum_train=1):
    """(train, valid) lists of `examples`; a DataError naming `source` when too few are left to train on."""
    order = list(range(len(examples)))
    random.Random(seed).shuffle(order)
    n_valid = max(1, int(round(len(order) * fraction)))
    if len(order) - n_valid < minimum_train:
        raise DataError(source, f"too few {what} ({len(order)}) to carve a validation set of {fraction:g} "
                                f"and train on the rest")
    return [examples[i] for i in order[n_valid:]], [examples[i] for i in order[:n_valid]]
