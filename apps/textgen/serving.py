"""Exported signatures: next-token probabilities of each prefix, and sampling with the loop in the graph.

Both take raw UTF-8 strings: splitting into characters (or words) and the
vocabulary are inside the graph, so a client needs none of our code.
"""

import keras
import tensorflow as tf

from apps.common.serving import first_rows, nonempty_batch
from apps.common.stepping import Stepper
from datasets.textgen import END, END_ID, PAD, UNKNOWN, UNKNOWN_ID

MAX_SAMPLES = 10000  # texts per generate call, all prefixes together: a bound on what one request can take
NEVER = -1e9  # a finite "minus infinity" for logits that must not be drawn


def make_lookup(vocabulary):
    """A StringLookup giving our ids: 0 padding, 1 unknown, 2 the end mark, then the vocabulary."""
    assert vocabulary[:3] == [PAD, UNKNOWN, END], vocabulary[:3]
    lookup = keras.layers.StringLookup(vocabulary=vocabulary[2:], mask_token=PAD, oov_token=UNKNOWN,
                                       num_oov_indices=1)
    lookup.build((None,))  # ExportArchive refuses unbuilt layers
    return lookup


def _split(texts, level):
    texts = tf.strings.unicode_transcode(texts, "UTF-8", "UTF-8", errors="replace")
    return tf.strings.split(texts) if level == "word" else tf.strings.unicode_split(texts, "UTF-8")


def make_next_token_fn(model, lookup, vocabulary, level, max_context):
    """serving_default: texts [None] -> {"probabilities": [None, V] of the next token, "tokens": [None, V]}.

    Each text is a prefix: the model reads the end mark (every example's
    start), then the prefix's last `max_context` tokens.
    """
    tokens = tf.constant(vocabulary)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
    def next_token(texts):
        texts, n = nonempty_batch(texts)
        ids = tf.cast(lookup(_split(texts, level)), tf.int32)[:, -max_context:]
        ids = tf.concat([tf.fill([ids.nrows(), 1], END_ID), ids], axis=1)
        logits = model(ids.to_tensor(0), training=False)
        last = tf.cast(ids.row_lengths() - 1, tf.int32)
        probabilities = tf.nn.softmax(tf.gather(logits, last, batch_dims=1))
        rows = tf.shape(probabilities)[0]
        return first_rows({"probabilities": probabilities, "tokens": tf.tile(tokens[None], [rows, 1])}, n)

    return next_token


def _sampler(temperature, top_k, top_p, seed):
    """pick(logits [B, V], t) -> token ids [B]: temperature, then top-k and nucleus (top-p) filtering."""
    def pick(logits, t):
        vocabulary_size = tf.shape(logits)[-1]
        never = tf.reduce_sum(tf.one_hot([0, UNKNOWN_ID], vocabulary_size, on_value=NEVER, off_value=0.0), 0)
        ranked, order = tf.math.top_k(logits / temperature + never, k=vocabulary_size)
        probabilities = tf.nn.softmax(ranked)
        drop = tf.cumsum(probabilities, axis=-1) - probabilities >= top_p  # the most likely always stays
        drop = tf.logical_or(drop, tf.logical_and(top_k > 0, tf.range(vocabulary_size)[None, :] >= top_k))
        choice = tf.random.stateless_categorical(tf.where(drop, NEVER, ranked), 1, seed=tf.stack([seed, t]))
        return tf.gather(order, tf.cast(choice[:, 0], tf.int32), batch_dims=1)

    return pick


def _sanitised(number, prefixes, temperature, top_k, top_p):
    """Forgiving, as a server must be: out-of-range values become the nearest sensible ones."""
    number = tf.clip_by_value(number, 0, MAX_SAMPLES // tf.maximum(tf.shape(prefixes)[0], 1))
    temperature = tf.where(tf.logical_and(tf.math.is_finite(temperature), temperature > 0), temperature, 1.0)
    top_p = tf.where(tf.logical_and(top_p > 0, top_p <= 1), top_p, 1.0)  # NaN fails both: 1
    return number, temperature, tf.maximum(top_k, 0), top_p


def make_generate_fn(model, lookup, vocabulary, level, max_length):
    """generate: (prefixes [None], number, temperature, seed, top_k, top_p) -> {"texts": [None * number]}.

    Each prefix is repeated `number` times (at most MAX_SAMPLES texts in all);
    each row continues its prefix by up to `max_length` sampled tokens, until
    it draws the end mark. The same
    seed gives the same texts. Prefixes longer than `max_length` tokens are cut.
    """
    stepper, tokens = Stepper(model), tf.constant(vocabulary)
    separator = " " if level == "word" else ""

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="prefixes"),
                                  tf.TensorSpec([], tf.int32, name="number"),
                                  tf.TensorSpec([], tf.float32, name="temperature"),
                                  tf.TensorSpec([], tf.int32, name="seed"),
                                  tf.TensorSpec([], tf.int32, name="top_k"),
                                  tf.TensorSpec([], tf.float32, name="top_p")])
    def generate(prefixes, number, temperature, seed, top_k, top_p):
        number, temperature, top_k, top_p = _sanitised(number, prefixes, temperature, top_k, top_p)
        prefixes, n = nonempty_batch(tf.repeat(prefixes, number))
        prefix_ids = tf.cast(lookup(_split(prefixes, level)), tf.int32)[:, :max_length]
        generated = _sample_loop(stepper, prefix_ids, max_length, _sampler(temperature, top_k, top_p, seed))
        keep = tf.logical_and(generated > UNKNOWN_ID, generated != END_ID)
        words = tf.ragged.boolean_mask(tf.gather(tokens, generated), keep)
        text = tf.strings.reduce_join(words, axis=1, separator=separator)
        glue = tf.where(tf.logical_and(tf.strings.length(prefixes) > 0, tf.strings.length(text) > 0), separator, "")
        return first_rows({"texts": tf.strings.join([prefixes, glue, text])}, n)

    return generate


def _sample_loop(stepper, prefix_ids, max_length, pick):
    """Sampled ids [B, max_length] after each (ragged) prefix, 0 after a row's end mark."""
    rows, lengths = tf.cast(prefix_ids.nrows(), tf.int32), tf.cast(prefix_ids.row_lengths(), tf.int32)
    forced = prefix_ids.to_tensor(0, shape=[rows, max_length])  # the prefix, token by token
    steps = tf.reduce_max(tf.concat([lengths, [0]], 0)) + max_length

    def step(t, token, states, finished, out):
        logits, states = stepper.step(token, states)
        in_prefix = t < lengths
        from_prefix = tf.gather(forced, tf.minimum(t, max_length - 1), axis=1)
        choice = tf.where(in_prefix, from_prefix, tf.cast(pick(logits, t), tf.int32))
        choice = tf.where(finished, 0, choice)
        finished = tf.logical_or(finished, tf.logical_and(tf.logical_not(in_prefix), choice == END_ID))
        finished = tf.logical_or(finished, t - lengths + 1 >= max_length)
        sampled = tf.where(in_prefix, 0, choice)
        return t + 1, tf.where(choice > 0, choice, END_ID), states, finished, out.write(t, sampled)

    start = (0, tf.fill([rows], END_ID), stepper.initial_states(rows), tf.zeros([rows], tf.bool),
             tf.TensorArray(tf.int32, size=0, dynamic_size=True, element_shape=[None]))
    *_, out = tf.while_loop(lambda t, _, __, finished, ___: tf.logical_and(t < steps, tf.logical_not(
        tf.reduce_all(finished))), step, start)
    return tf.transpose(tf.reshape(out.stack(), [-1, rows]))


def write_saved_model(path, model, vocabulary, level, max_length):
    """A SavedModel with serving_default (next-token probabilities) and generate (sampling in the graph)."""
    lookup = make_lookup(vocabulary)
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.track(lookup)
    archive.add_endpoint("serving_default", make_next_token_fn(model, lookup, vocabulary, level, max_length))
    archive.add_endpoint("generate", make_generate_fn(model, lookup, vocabulary, level, max_length))
    archive.write_out(path, verbose=False)


def _sample_length(options):
    """Tokens a sample may add (and a prefix the model reads): the run's example or window length."""
    return options.window if options.mode == "text" else options.max_length


def run_generate_fn(trained, max_length=None):
    """The generate function of a TrainedRun, as the export serves it."""
    options, vocabulary = trained.options, trained.encoders
    return make_generate_fn(trained.model, make_lookup(vocabulary), vocabulary, options.level,
                            max_length or _sample_length(options))


def write_run(path, trained):
    """write_saved_model of a TrainedRun."""
    write_saved_model(path, trained.model, trained.encoders, trained.options.level, _sample_length(trained.options))
