"""Polyphonic piano rolls (Boulanger-Lewandowski et al. 2012): JSON sequences of pitch lists.

A sequence is a list of time steps, each a list of the MIDI pitches sounding
(21-108, the 88 piano keys). As arrays: multi-hot [T, 88] float32, key k =
pitch k + 21. A batch is (inputs [B, T, 88], next steps [B, T, 88], weights
[B, T]) with weight 0 at padding.

Every frame of a piece is scored, the first included (as Boulanger-Lewandowski
et al. 2012 do): the input at the first step is a silent frame, so the first
frame is predicted from the initial state alone. A piece of T frames is T
scored steps.
"""

import json
import os

import numpy as np

from .errors import DataError

LOWEST, KEYS = 21, 88
DATASETS = ("jsb_chorales", "nottingham", "musedata", "piano_midi")


def read_piano_rolls(path):
    """Multi-hot arrays [T, 88] of every sequence in a JSON file."""
    if not os.path.exists(path):
        raise DataError(path, "no such file")
    try:
        with open(path, encoding="utf-8-sig") as handle:
            sequences = json.load(handle)
    except json.JSONDecodeError as err:
        raise DataError(path, f"not valid JSON ({err.msg})", err.lineno) from None
    except UnicodeDecodeError as err:
        raise DataError(path, f"not valid UTF-8 (byte {err.start + 1})") from None
    if not isinstance(sequences, list) or not sequences:
        raise DataError(path, "expected a non-empty JSON list of sequences")
    rolls = []
    for i, sequence in enumerate(sequences):
        if not isinstance(sequence, list) or len(sequence) < 2:
            raise DataError(path, f"sequence {i}: expected a list of at least two time steps")
        roll = np.zeros((len(sequence), KEYS), dtype="float32")
        for t, step in enumerate(sequence):
            if not isinstance(step, list):
                raise DataError(path, f"sequence {i}, step {t}: expected a list of pitches")
            for pitch in step:
                if not isinstance(pitch, int) or not LOWEST <= pitch < LOWEST + KEYS:
                    raise DataError(path, f"sequence {i}, step {t}: pitch {pitch!r} is not a piano key (21-108)")
                roll[t, pitch - LOWEST] = 1.0
        rolls.append(roll)
    return rolls


def split_paths(data_dir, name):
    return tuple(os.path.join(data_dir, f"{name}.{split}.json") for split in ("train", "valid"))


def after_silence(roll):
    """[T, 88] -> [T + 1, 88]: a silent frame first, the input from which the first frame is predicted."""
    return np.concatenate([np.zeros((1, KEYS), roll.dtype), roll])


def windows(rolls, window):
    """Consecutive pieces of window + 1 steps (each predicts `window` next steps); every step is a target once."""
    pieces = []
    for roll in rolls:
        for start in range(0, len(roll) - 1, window):
            piece = roll[start:start + window + 1]
            if len(piece) >= 2:
                pieces.append(piece)
    return pieces


def make_dataset(rolls, *, batch_size, shuffle, seed, window=None):
    """Batches of (inputs [silence, x_1 .. x_T-1], targets x_1 .. x_T, weights) padded to the longest in the batch.

    With `window`, sequences are first cut into pieces of at most window + 1
    steps (for training on long pieces: less padding, more sequences per
    batch; the state starts afresh at each piece, and only a sequence's first
    piece starts from the silent frame).
    """
    import tensorflow as tf

    rolls = [after_silence(roll) for roll in rolls]
    if window:
        rolls = windows(rolls, window)

    def generate():
        for roll in rolls:
            yield roll[:-1], roll[1:], np.ones(len(roll) - 1, "float32")

    spec = (tf.TensorSpec([None, KEYS], tf.float32), tf.TensorSpec([None, KEYS], tf.float32),
            tf.TensorSpec([None], tf.float32))
    ds = tf.data.Dataset.from_generator(generate, output_signature=spec)
    ds = ds.apply(tf.data.experimental.assert_cardinality(len(rolls))).cache()
    if shuffle:
        ds = ds.shuffle(len(rolls), seed=seed, reshuffle_each_iteration=True)
    return ds.padded_batch(batch_size).prefetch(tf.data.AUTOTUNE)
