"""Sentences or tokens in, tokens and tags out: what predict uses and export writes."""

import keras
import tensorflow as tf

from apps.common.serving import first_rows, nonempty_batch

from datasets.conll import encode_tokens, tokenize_text

from .model import decode


def _at_least_one_step(words, chars):
    # A batch of empty sentences would be zero steps wide; the RNN needs one.
    pad_t = tf.maximum(1 - tf.shape(words)[1], 0)
    pad_c = tf.maximum(1 - tf.shape(chars)[2], 0)
    return tf.pad(words, [[0, 0], [0, pad_t]]), tf.pad(chars, [[0, 0], [0, pad_t], [0, pad_c]])


def make_taggers(model, word_lookup, char_lookup, tag_names, max_chars):
    """(tag_sentences, tag_tokens) tf.functions.

    tag_sentences: sentences [None] tf.string
    tag_tokens:    tokens [None, None] tf.string; a sentence ends at its first ""
    both return {"tokens": [None, None] string, "tags": [None, None] string
    ("" at padding), "length": [None] int32}.
    """
    names = tf.constant(tag_names)

    def tag_ragged(tokens):
        words, chars = encode_tokens(tokens, word_lookup, char_lookup, max_chars)
        words, chars = _at_least_one_step(words, chars)
        scores = model({"words": words, "chars": chars}, training=False)
        ids = decode(model, scores, words)
        padded_tokens = tokens.to_tensor("")
        width = tf.shape(padded_tokens)[1]
        tags = tf.where(words > 0, tf.gather(names, ids), "")[:, :width]
        return {"tokens": padded_tokens, "tags": tags, "length": tf.cast(tokens.row_lengths(), tf.int32)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="sentences")])
    def tag_sentences(sentences):
        sentences, n = nonempty_batch(sentences)
        return first_rows(tag_ragged(tokenize_text(sentences)), n)

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.string, name="tokens")])
    def tag_tokens(tokens):
        tokens, n = nonempty_batch(tokens)
        # A sentence ends at its first "" token.
        lengths = tf.reduce_sum(tf.math.cumprod(tf.cast(tf.strings.length(tokens) > 0, tf.int64), axis=1), axis=1)
        return first_rows(tag_ragged(tf.RaggedTensor.from_tensor(tokens, lengths=lengths)), n)

    return tag_sentences, tag_tokens


def write_saved_model(path, model, word_lookup, char_lookup, tag_names, max_chars):
    """serving_default takes raw sentences; tag_tokens takes pre-tokenised input."""
    tag_sentences, tag_tokens = make_taggers(model, word_lookup, char_lookup, tag_names, max_chars)
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.track(word_lookup)
    archive.track(char_lookup)
    archive.add_endpoint("serving_default", tag_sentences)
    archive.add_endpoint("tag_tokens", tag_tokens)
    archive.write_out(path, verbose=False)


def run_tagger(trained):
    """The serving_default function (raw sentences) of a TrainedRun."""
    word_lookup, char_lookup = trained.encoders
    return make_taggers(trained.model, word_lookup, char_lookup, trained.options.tags, trained.options.max_chars)[0]


def write_run(path, trained):
    """write_saved_model of a TrainedRun."""
    word_lookup, char_lookup = trained.encoders
    write_saved_model(path, trained.model, word_lookup, char_lookup, trained.options.tags, trained.options.max_chars)


def character_spans(text, tokens):
    """(start, end) of each token in text, searching left to right; None if not found."""
    spans, position = [], 0
    for token in tokens:
        start = text.find(token, position)
        if start < 0:
            spans.append(None)
            continue
        spans.append((start, start + len(token)))
        position = start + len(token)
    return spans
