"""Largest differences between our cells and Keras' SimpleRNN/GRU/LSTM with the same weights.

    python bench/parity.py          (KERAS_BACKEND=jax for the JAX backend)

Prints a markdown table: max |ours - keras| of outputs and of gradients, float32.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import apps  # noqa: E402,F401
import keras  # noqa: E402
import numpy as np  # noqa: E402

from tests.test_cells import KINDS, D, T, copy_weights, gradients, masked_tokens, random_inputs, random_weights  # noqa: E402


def main():
    print(f"backend: {keras.backend.backend()}\n")
    print("| cell | mask | max output diff | max gradient diff |")
    print("| --- | --- | --- | --- |")
    for kind, (ours_cell, _, keras_layer) in KINDS.items():
        for masked in (False, True):
            x = masked_tokens() if masked else random_inputs()
            head = (lambda: [keras.Input((T,), dtype="int32"), keras.layers.Embedding(10, D, mask_zero=True)]) \
                if masked else (lambda: [keras.Input((T, D))])
            ours = keras.Sequential(head() + [keras.layers.RNN(ours_cell(), return_sequences=True)])
            theirs = keras.Sequential(head() + [keras_layer(return_sequences=True)])
            random_weights(ours)
            copy_weights(ours, theirs)
            out = np.abs(np.asarray(ours(x)) - np.asarray(theirs(x))).max()
            grad = max(np.abs(a - b).max() for a, b in zip(gradients(ours, x), gradients(theirs, x)))
            print(f"| {kind} | {'yes' if masked else 'no'} | {out:.1e} | {grad:.1e} |")


if __name__ == "__main__":
    main()
