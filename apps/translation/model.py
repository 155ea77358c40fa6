"""Embedding -> bidirectional encoder RNN -> decoder RNN with attention over the encoder.

Training uses teacher forcing on the whole target. Decoding (greedy and beam)
steps the same decoder cell, attention and output layers one token at a time.
"""

import keras
from keras import ops

from apps.common.training import weight_averaging
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
    output_dim = options.get("output_dim") or 2 * units  # runs from before the option have none
    combined = keras.layers.Dense(output_dim, activation="tanh", name="attention_combine")(
        keras.layers.Concatenate(name="output_and_context")([decoded, context]))
    logits = keras.layers.Dense(target_vocabulary_size, name="logits")(combined)
    model = keras.Model({"source": source, "target_in": target_in}, logits, name="translation")
    model.compile(
        optimizer=keras.optimizers.Adam(options["learning_rate"], clipnorm=options["clipnorm"],
                                        **weight_averaging(options)),
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


NEVER = -1e9  # a finite "minus infinity": -inf - -inf would give NaN


def _beam_candidates(logits, scores, lengths, finished, length_penalty):
    """Every one-token extension of the beams: logits [B*K, V], scores, lengths, finished [B, K] ->
    (candidate log-probabilities [B, K*V], their ranks [B, K*V], lengths after this step [B, K], V)."""
    batch, k = ops.shape(scores)[0], ops.shape(scores)[1]
    log_probs = ops.reshape(ops.log_softmax(logits, axis=-1), (batch, k, -1))
    vocabulary = ops.shape(log_probs)[-1]
    ids = ops.arange(vocabulary)[None, None, :]
    # Live hypotheses never choose padding or start; finished ones can only add padding, at no cost.
    log_probs = ops.where(ops.logical_or(ops.equal(ids, 0), ops.equal(ids, START_ID)), NEVER, log_probs)
    log_probs = ops.where(finished[:, :, None], ops.where(ops.equal(ids, 0), 0.0, NEVER), log_probs)
    new_lengths = lengths + 1.0 - ops.cast(finished, "float32")
    candidates = scores[:, :, None] + log_probs
    ranks = ops.reshape(candidates / new_lengths[:, :, None] ** length_penalty, (batch, -1))
    return ops.reshape(candidates, (batch, -1)), ranks, new_lengths, vocabulary


def beam_decode(decoder, source, beam_size, max_length, length_penalty=1.0):
    """source [B, S] -> best tokens [B, max_length] int64, 0 after the end, by batched beam search.

    Each row keeps `beam_size` hypotheses [B, K]; a finished one (it chose the end
    token) stays in the beam with its score frozen. Hypotheses are ranked by
    log-probability / length ** length_penalty (length counts the end token), so
    0 ranks by raw log-probability. Written with keras.ops loops, so it runs
    inside an exported graph; beam_size 1 gives greedy decoding.
    """
    encoded, states, mask = decoder.encode(source)
    batch, k = ops.shape(source)[0], beam_size
    # Every source row repeated k times: row b * k + i is beam i of source b.
    encoded, mask = ops.repeat(encoded, k, axis=0), ops.repeat(mask, k, axis=0)
    states = [ops.repeat(s, k, axis=0) for s in states]
    first_beam_only = ops.concatenate([ops.zeros((1,)), ops.full((k - 1,), NEVER)])
    init = (
        ops.convert_to_tensor(0),
        ops.full((batch * k,), START_ID, dtype="int64"),
        states,
        ops.zeros((batch, k)) + first_beam_only[None, :],  # scores: log-probabilities
        ops.zeros((batch, k)),  # lengths
        ops.zeros((batch, k), dtype="bool"),  # finished
        ops.zeros((batch, k, max_length), dtype="int64"),  # tokens
    )

    def cond(t, token, states, scores, lengths, finished, tokens):
        return ops.logical_and(t < max_length, ops.logical_not(ops.all(finished)))

    def body(t, token, states, scores, lengths, finished, tokens):
        logits, states, _ = decoder.step(token, states, encoded, mask)
        candidates, ranks, new_lengths, vocabulary = _beam_candidates(logits, scores, lengths, finished,
                                                                      length_penalty)
        _, best = ops.top_k(ranks, k)  # [B, K] over K * V candidates
        parent, word = best // vocabulary, ops.cast(best % vocabulary, "int64")
        scores = ops.take_along_axis(candidates, best, axis=1)
        lengths = ops.take_along_axis(new_lengths, parent, axis=1)
        finished = ops.logical_or(ops.take_along_axis(finished, parent, axis=1), ops.equal(word, END_ID))
        tokens = ops.take_along_axis(tokens, ops.repeat(parent[:, :, None], max_length, axis=2), axis=1)
        at_t = ops.cast(ops.one_hot(t, max_length), "int64")
        tokens = tokens + at_t[None, None, :] * word[:, :, None]
        rows = ops.reshape(ops.arange(batch)[:, None] * k + parent, (-1,))
        states = [ops.take(s, rows, axis=0) for s in states]
        return t + 1, ops.reshape(word, (-1,)), states, scores, lengths, finished, tokens

    _, _, _, scores, lengths, finished, tokens = ops.while_loop(cond, body, init, maximum_iterations=max_length)
    # A finished hypothesis beats any unfinished one (cut off at max_length).
    final = scores / ops.maximum(lengths, 1.0) ** length_penalty + ops.where(finished, 0.0, 2 * NEVER)
    best = ops.argmax(final, axis=1)
    return ops.take_along_axis(tokens, ops.repeat(best[:, None, None], max_length, axis=2), axis=1)[:, 0]


def build_run_model(options, encoders):
    """build_model for the run's (source lookup, target lookup)."""
    source_lookup, target_lookup = encoders
    return build_model(options, source_lookup.vocabulary_size(), target_lookup.vocabulary_size())
