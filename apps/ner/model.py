"""Word embedding + character CNN -> stacked BiRNN of our cells -> CRF or softmax."""

import keras
from keras import ops

from apps.common.training import weight_averaging
from layers import CELLS, CRF, CRFLoss, CharCNN, TokenDropout


def build_model(options, num_words, num_chars, num_tags):
    """{"words": [B, T], "chars": [B, T, C]} int64 (0 = padding) -> tag scores [B, T, K].

    With the CRF output the scores are emissions, decoded by `decode`; with
    softmax they are probabilities.
    """
    words = keras.Input((None,), dtype="int64", name="words")
    chars = keras.Input((None, None), dtype="int64", name="chars")
    dropped = TokenDropout(options["word_dropout"], seed=options["seed"], name="word_dropout")(words)
    x = keras.layers.Embedding(num_words, options["word_dim"], mask_zero=True, name="word_embedding")(dropped)
    if options["char_features"]:
        char_features = CharCNN(num_chars, options["char_dim"], options["char_filters"], name="char_cnn")(chars)
        x = keras.layers.Concatenate(name="word_and_chars")([x, char_features])
    x = keras.layers.Dropout(options["dropout"], name="input_dropout")(x)
    for i in range(options["layers"]):
        cell = CELLS[options["cell"]](options["units"], recurrent_dropout=options["recurrent_dropout"],
                                      seed=options["seed"] + i)
        x = keras.layers.Bidirectional(keras.layers.RNN(cell, return_sequences=True, name=f"rnn_{i}"),
                                       name=f"bidirectional_{i}")(x)
        x = keras.layers.Dropout(options["dropout"], name=f"dropout_{i}")(x)
    if options["output"] == "crf":
        emissions = keras.layers.Dense(num_tags, name="emissions")(x)
        crf = CRF(num_tags, name="crf")
        outputs = crf(emissions)
        loss = CRFLoss(crf)
    else:
        outputs = keras.layers.Dense(num_tags, activation="softmax", name="tag_probabilities")(x)
        loss = keras.losses.SparseCategoricalCrossentropy(ignore_class=-1)
    model = keras.Model({"words": words, "chars": chars}, outputs, name="ner")
    model.compile(optimizer=keras.optimizers.Adam(options["learning_rate"], clipnorm=options["clipnorm"],
                                                  **weight_averaging(options)),
                  loss=loss)
    return model


def decode(model, scores, words):
    """Tag ids [B, T] int32 from the model's output; 0 at padding."""
    mask = words > 0
    if _has_crf(model):
        return model.get_layer("crf").decode(scores, mask)
    return ops.where(mask, ops.cast(ops.argmax(scores, axis=-1), "int32"), 0)


def _has_crf(model):
    return any(layer.name == "crf" for layer in model.layers)


def build_run_model(options, encoders):
    """build_model for the run's (word lookup, char lookup) and tags."""
    word_lookup, char_lookup = encoders
    return build_model(options, word_lookup.vocabulary_size(), char_lookup.vocabulary_size(), len(options.tags))
