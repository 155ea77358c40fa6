"""Token embedding -> stacked RNN of our cells -> next-token logits (a softmax over the vocabulary)."""

import keras

from layers import CELLS


def build_model(options, vocabulary_size):
    """token ids [B, T] int32 (0 = padding) -> next-token logits [B, T, V].

    The loss is the cross-entropy of the next token, padding excluded: the
    training loss is the NLL per real token. Gradients are clipped against
    exploding gradients: to norm `clipnorm`, or each element to
    [-clipvalue, clipvalue] when `clipvalue` is set. Regularisation: dropout
    on the inputs of the second and later layers and on the output layer's
    input, `recurrent_dropout` on every layer's state, and `weight_decay`.
    """
    ids = keras.Input((None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(vocabulary_size, options["embedding_dim"], mask_zero=True, name="embedding")(ids)
    for i in range(options["layers"]):
        cell = CELLS[options["cell"]](options["units"], dropout=options["dropout"] if i else 0.0,
                                      recurrent_dropout=options["recurrent_dropout"], seed=options["seed"] + i)
        x = keras.layers.RNN(cell, return_sequences=True, name=f"rnn_{i}")(x)
    x = keras.layers.Dropout(options["dropout"], seed=options["seed"] + options["layers"], name="output_dropout")(x)
    logits = keras.layers.Dense(vocabulary_size, name="logits")(x)
    model = keras.Model(ids, logits, name="textgen")
    # Keras takes one kind of clipping: an element-wise clipvalue replaces the norm.
    clipping = {"clipvalue": options["clipvalue"]} if options["clipvalue"] else {"clipnorm": options["clipnorm"]}
    model.compile(
        optimizer=keras.optimizers.AdamW(options["learning_rate"], weight_decay=options["weight_decay"], **clipping)
        if options["weight_decay"] else keras.optimizers.Adam(options["learning_rate"], **clipping),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model


def build_run_model(options, vocabulary):
    return build_model(options, len(vocabulary))
