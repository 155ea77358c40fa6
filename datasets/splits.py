"""The validation carves: `carve` (by example) and `carve_by_key` (by a key, e.g. a pair's source sentence).

The same seed and data give the same split in every app and every release.
`carve` shuffles the examples' order with `random.Random(seed)` and takes
the first max(1, round(N * fraction)) as validation; runs trained before this
module existed carved exactly so, and their `--validation` evaluations depend
on getting the same split back. `carve_by_key` decides each key's side by a
stable hash, so equal keys stay together and the order does not matter.
"""

import hashlib
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


def stable_fraction(key, seed):
    """A number in [0, 1) fixed by (key, seed): the same in every process, run and file order."""
    digest = hashlib.blake2b(f"{seed}\0{key}".encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2 ** 64


def carve_by_key(examples, key, fraction, seed, source, what="examples", minimum_train=1):
    """(train, valid) lists of `examples`, every example whose `key(example)` is shared on the same side.

    An example is validation when the stable hash of (seed, its key) falls
    below `fraction`: the split does not depend on the order of the file or
    on what else it holds (a key's side can be decided while streaming), and
    examples with equal keys (one source sentence with several translations,
    say) never straddle the two sets. The validation share is `fraction` in
    expectation, not exactly; at least one key goes to validation.
    """
    keys = [key(example) for example in examples]
    draws = {k: stable_fraction(k, seed) for k in keys}
    # Small data may have no key below `fraction`: the lowest draw's key then goes to validation.
    threshold = max(fraction, min(draws.values(), default=0.0))
    train, valid = [], []
    for example, k in zip(examples, keys):
        (valid if draws[k] <= threshold else train).append(example)
    if not valid or len(train) < minimum_train:
        raise DataError(source, f"too few {what} ({len(examples)}) to carve a validation set of {fraction:g} "
                                f"and train on the rest")
    return train, valid
