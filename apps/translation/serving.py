"""Raw source strings in, translations out, the decoding loop inside the graph."""

import keras
import tensorflow as tf

from datasets.seq2seq import encode, ids_to_text

from .model import Decoder, greedy_decode


def make_translate_fn(model, source_lookup, target_vocabulary, level, max_length):
    """texts [None] tf.string -> {"translation": [None] tf.string} by greedy decoding."""
    decoder = Decoder(model)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
    def translate(texts):
        source = encode(texts, source_lookup, level, max_length).to_tensor()
        # An empty text still gets one (padding) step: the encoder needs a step.
        source = tf.pad(source, [[0, 0], [0, tf.maximum(1 - tf.shape(source)[1], 0)]])
        tokens, _ = greedy_decode(decoder, source, max_length)
        return {"translation": ids_to_text(tokens, target_vocabulary, level)}

    return translate


def write_saved_model(path, model, source_lookup, target_lookup, level, max_length):
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.track(source_lookup)
    archive.track(target_lookup)
    archive.add_endpoint("serving_default", make_translate_fn(model, source_lookup, target_lookup.get_vocabulary(),
                                                              level, max_length))
    archive.write_out(path, verbose=False)
