"""Event embedding -> stacked RNN of our cells -> next-event logits; and sampling."""

import keras
import numpy as np
from keras import ops

from apps.common.stepping import Stepper
from apps.common.training import weight_averaging
from layers import CELLS


def build_model(options, vocabulary_size):
    """event ids [B, T] int32 (0 = padding) -> next-event logits [B, T, V]."""
    ids = keras.Input((None,), dtype="int32", name="events")
    x = keras.layers.Embedding(vocabulary_size, options["embedding_dim"], mask_zero=True, name="embedding")(ids)
    for i in range(options["layers"]):
        x = keras.layers.RNN(CELLS[options["cell"]](options["units"], dropout=options["dropout"],
                                                     seed=options["seed"] + i),
                             return_sequences=True, name=f"rnn_{i}")(x)
    logits = keras.layers.Dense(vocabulary_size, name="logits")(x)
    model = keras.Model(ids, logits, name="music")
    model.compile(
        optimizer=keras.optimizers.Adam(options["learning_rate"], clipnorm=options["clipnorm"],
                                        **weight_averaging(options)),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model


def sample(model, primer_ids, length, seed, temperature=1.0, top_k=None, forbidden=(0,), stop_id=None,
           allowed_first=None, allowed=None):
    """At most `length` ids following primer_ids (which start with the start id); ends after `stop_id`.

    `allowed_first`: the ids the first draw is limited to (None: any).
    `allowed(generated ids)`: the ids the next draw may take (None: any), for a grammar.
    Deterministic for a seed: numpy's generator draws from float64 probabilities.
    """
    rng = np.random.default_rng(seed)
    stepper = Stepper(model)
    states = stepper.initial_states(1)
    logits = None
    for i in primer_ids:
        logits, states = stepper.step(ops.convert_to_tensor([i], dtype="int32"), states)
    generated = []
    for _ in range(length):
        scores = np.asarray(logits, dtype="float64")[0] / max(temperature, 1e-6)
        scores[list(forbidden)] = -np.inf
        permitted = allowed_first if not generated else None
        if allowed is not None:
            permitted = allowed(generated)
        if permitted is not None:
            scores[[i for i in range(len(scores)) if i not in set(permitted)]] = -np.inf
        if top_k:
            cutoff = np.sort(scores)[-min(top_k, len(scores))]
            scores[scores < cutoff] = -np.inf
        probabilities = np.exp(scores - scores.max())
        probabilities /= probabilities.sum()
        choice = int(rng.choice(len(probabilities), p=probabilities))
        generated.append(choice)
        if choice == stop_id:
            break
        logits, states = stepper.step(ops.convert_to_tensor([choice], dtype="int32"), states)
    return generated


def build_run_model(options, index):
    """build_model for the run's event vocabulary ({event: id})."""
    return build_model(options, len(index))
