"""Embedding -> bidirectional encoder RNN -> decoder RNN with attention over the encoder.

Training uses teacher forcing on the whole target. Decoding (greedy and beam)
steps the same decoder cell, attention and output layers one token at a time.
"""

import keras
import numpy as np
from keras import ops

from datasets.seq2seq import END_ID, START_ID
from layers import CELLS, BahdanauAttention, LuongAttention, NotPadding


def masked_accuracy(y_true, y_pred):
    """Per-token hits [B, T]; Keras weights them by the logits' mask (the target padding)."""
    return ops.cast(ops.equal(ops.argmax(y_pred, axis=-1), ops.cast(y_true, "int64")), "float32")


def build_model(options, source_vocabulary_size, target_vocabulary_size):
    """{"source": [B, S], "target_in": [B, T]} int64 -> next-token logits [B, T, V]."""
    units, cell = options["units"], CELLS[options["cell"]]
    source = keras.Input((None,), dtype="int64", name="source")
    target_in = keras.Input((None,), dtype="int64", name="target_in")
    x = keras.layers.Embedding(source_vocabulary_size, options["embedding_dim"], mask_zero=True,
                               name="source_embedding")(source)
    encoder = keras.layers.Bidirectional(
        keras.layers.RNN(cell(units, dropout=options["dropout"], seed=options["seed"]), return_sequences=True,
                         return_state=True), name="encoder")
    encoded, *states = encoder(x)
    half = len(states) // 2  # forward states, then backward ones
    decoder_states = [keras.layers.Concatenate(name=f"bridge_{i}")([states[i], states[half + i]])
                      for i in range(half)]
    y = keras.layers.Embedding(target_vocabulary_size, options["embedding_dim"], mask_zero=True,
                               name="target_embedding")(target_in)
    decoded = keras.layers.RNN(cell(2 * units, dropout=options["dropout"], seed=options["seed"] + 1),
                               return_sequences=True, name="decoder")(y, initial_state=decoder_states)
    attention = (BahdanauAttention(units, name="attention") if options["attention"] == "additive"
                 else LuongAttention("general", name="attention"))
    context, _ = attention(decoded, encoded, values_mask=NotPadding(name="source_mask")(source))
    combined = keras.layers.Dense(2 * units, activation="tanh", name="attention_combine")(
        keras.layers.Concatenate(name="output_and_context")([decoded, context]))
    logits = keras.layers.Dense(target_vocabulary_size, name="logits")(combined)
    model = keras.Model({"source": source, "target_in": target_in}, logits, name="translation")
    model.compile(
        optimizer=keras.optimizers.Adam(options["learning_rate"], clipnorm=options["clipnorm"]),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
        metrics=[masked_accuracy],
    )
    return model


class Decoder:
    """One-token steps of a trained model's decoder, for greedy and beam search."""

    def __init__(self, model):
        self.embedding = model.get_layer("target_embedding")
        self.cell = model.get_layer("decoder").cell
        self.attention = model.get_layer("attention")
        self.combine = model.get_layer("attention_combine")
        self.logits = model.get_layer("logits")
        bridges = sorted((l for l in model.layers if l.name.startswith("bridge_")), key=lambda l: l.name)
        self.encoder = keras.Model(model.get_layer("source").output,
                                   [model.get_layer("encoder").output[0], *[b.output for b in bridges]])

    def encode(self, source):
        """source [B, S] -> (encoder outputs [B, S, 2U], decoder states, source mask [B, S])."""
        encoded, *states = self.encoder(source, training=False)
        return encoded, list(states), ops.not_equal(source, 0)

    def step(self, token, states, encoded, mask):
        """token [B] -> (logits [B, V], new states, attention weights [B, S])."""
        # The table itself: calling the layer would attach a padding mask to a single step.
        embedded = ops.take(self.embedding.embeddings, token, axis=0)
        out, states = self.cell(embedded, states, training=False)
        context, weights = self.attention(out, encoded, values_mask=mask)
        logits = self.logits(self.combine(ops.concatenate([out, context], axis=-1)))
        return logits, list(states), weights


def greedy_decode(decoder, source, max_length):
    """source [B, S] -> (tokens [B, max_length] int64, 0 after the end, attention [B, max_length, S]).

    Written with keras.ops loops, so it also runs inside an exported graph.
    """
    encoded, states, mask = decoder.encode(source)
    batch, steps = ops.shape(source)[0], ops.shape(source)[1]
    init = (
        ops.convert_to_tensor(0),
        ops.full((batch,), START_ID, dtype="int64"),
        states,
        ops.zeros((batch,), dtype="bool"),
        ops.zeros((batch, max_length), dtype="int64"),
        ops.zeros((batch, max_length, steps), dtype="float32"),
    )

    def cond(t, token, states, finished, tokens, attention):
        return ops.logical_and(t < max_length, ops.logical_not(ops.all(finished)))

    def body(t, token, states, finished, tokens, attention):
        logits, states, weights = decoder.step(token, states, encoded, mask)
        token = ops.where(finished, 0, ops.cast(ops.argmax(logits, axis=-1), "int64"))
        at_t = ops.one_hot(t, max_length)  # writes column t without dynamic slicing
        tokens = tokens + ops.cast(at_t, "int64")[None, :] * token[:, None]
        attention = attention + at_t[None, :, None] * weights[:, None, :]
        return t + 1, token, states, ops.logical_or(finished, ops.equal(token, END_ID)), tokens, attention

    *_, tokens, attention = ops.while_loop(cond, body, init, maximum_iterations=max_length)
    return tokens, attention


def beam_search(decoder, source, beam_size, max_length, length_penalty=1.0):
    """Best token sequence (list of ids, without the end token) per source row.

    Scores are log-probabilities divided by length ** length_penalty.
    """
    encoded, states, mask = decoder.encode(source)
    batch, k = int(source.shape[0]), beam_size
    rows = np.repeat(np.arange(batch), k)
    encoded, mask = ops.take(encoded, rows, axis=0), ops.take(mask, rows, axis=0)
    states = [ops.take(s, rows, axis=0) for s in states]
    scores = np.full((batch, k), -np.inf)
    scores[:, 0] = 0.0
    sequences = [[[] for _ in range(k)] for _ in range(batch)]
    finished = [[] for _ in range(batch)]
    token = np.full((batch * k,), START_ID, dtype="int64")
    for t in range(max_length):
        logits, states, _ = decoder.step(ops.convert_to_tensor(token), states, encoded, mask)
        log_probs = np.asarray(ops.log_softmax(logits, axis=-1)).reshape(batch, k, -1)
        vocabulary = log_probs.shape[-1]
        candidates = (scores[:, :, None] + log_probs).reshape(batch, -1)
        parents, tokens = np.zeros((batch, k), "int64"), np.zeros((batch, k), "int64")
        new_scores = np.full((batch, k), -np.inf)
        new_sequences = [[[] for _ in range(k)] for _ in range(batch)]
        for b in range(batch):
            kept = 0
            for flat in np.argsort(-candidates[b])[: 2 * k]:
                if not np.isfinite(candidates[b, flat]) or kept == k:
                    break
                parent, word = divmod(int(flat), vocabulary)
                sequence = sequences[b][parent] + [word]
                if word == END_ID:
                    finished[b].append((candidates[b, flat] / len(sequence) ** length_penalty, sequence[:-1]))
                    continue
                parents[b, kept], tokens[b, kept] = parent, word
                new_scores[b, kept], new_sequences[b][kept] = candidates[b, flat], sequence
                kept += 1
        done = all(len(f) >= k for f in finished)
        scores, sequences = new_scores, new_sequences
        order = (np.arange(batch)[:, None] * k + parents).reshape(-1)
        states = [ops.take(s, order, axis=0) for s in states]
        token = tokens.reshape(-1)
        if done:
            break
    best = []
    for b in range(batch):
        options = finished[b] or [(scores[b, i] / max(len(sequences[b][i]), 1) ** length_penalty, sequences[b][i])
                                  for i in range(k) if np.isfinite(scores[b, i])]
        best.append(max(options, key=lambda o: o[0])[1])
    return best
