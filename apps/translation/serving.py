"""Raw source strings in, translations out, the decoding loop inside the graph."""

import keras
import tensorflow as tf

from apps.common.serving import first_rows, nonempty_batch
from datasets.seq2seq import encode, ids_to_text

from .model import Decoder, beam_decode, greedy_decode

BEAM_SIGNATURE = "beam_search"


def source_ids(texts, source_lookup, level, max_length):
    """texts [N] tf.string -> ids [N, S] int64 with S >= 1: an empty text still gets one (padding) step."""
    source = encode(texts, source_lookup, level, max_length).to_tensor()
    return tf.pad(source, [[0, 0], [0, tf.maximum(1 - tf.shape(source)[1], 0)]])


def make_translate_fn(model, source_lookup, target_vocabulary, level, max_length, beam_size=1,
                      length_penalty=1.0):
    """texts [None] tf.string -> {"translation": [None] tf.string}; greedy when beam_size is 1."""
    decoder = Decoder(model)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
    def translate(texts):
        texts, n = nonempty_batch(texts)
        source = source_ids(texts, source_lookup, level, max_length)
        if beam_size == 1:
            tokens, _ = greedy_decode(decoder, source, max_length)
        else:
            tokens = beam_decode(decoder, source, beam_size, max_length, length_penalty)
        return first_rows({"translation": ids_to_text(tokens, target_vocabulary, level)}, n)

    return translate


def write_saved_model(path, model, source_lookup, target_lookup, level, max_length, beam_size=4,
                      length_penalty=1.0):
    """serving_default decodes greedily; BEAM_SIGNATURE with beam_size hypotheses (when above 1)."""
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.track(source_lookup)
    archive.track(target_lookup)
    vocabulary = target_lookup.get_vocabulary()
    archive.add_endpoint("serving_default", make_translate_fn(model, source_lookup, vocabulary, level, max_length))
    if beam_size > 1:
        archive.add_endpoint(BEAM_SIGNATURE, make_translate_fn(model, source_lookup, vocabulary, level, max_length,
                                                               beam_size, length_penalty))
    archive.write_out(path, verbose=False)


def write_run(path, trained, beam_size=4, length_penalty=1.0):
    """write_saved_model of a TrainedRun."""
    source_lookup, target_lookup = trained.encoders
    write_saved_model(path, trained.model, source_lookup, target_lookup, trained.options.level,
                      trained.options.max_length, beam_size, length_penalty)
