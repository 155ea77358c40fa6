"""Embedding -> stacked (bidirectional) RNN of our cells -> masked pooling -> Dense."""

import keras

from layers import CELLS, HashedNgramBag, MaskedMaxMeanPooling


def build_model(options, vocabulary_size):
    """token ids [B, T] int64 (0 = padding) -> P(positive) [B, 1]."""
    ids = keras.Input((None,), dtype="int64", name="token_ids")
    x = keras.layers.Embedding(vocabulary_size, options["embedding_dim"], mask_zero=True, name="embedding")(ids)
    x = keras.layers.Dropout(options["dropout"], name="embedding_dropout")(x)
    for i in range(options["layers"]):
        cell = CELLS[options["cell"]](options["units"], seed=options["seed"] + i)
        rnn = keras.layers.RNN(cell, return_sequences=True, name=f"rnn_{i}")
        if options["bidirectional"]:
            rnn = keras.layers.Bidirectional(rnn, name=f"bidirectional_{i}")
        x = rnn(x)
    x = MaskedMaxMeanPooling(name="pooling")(x)
    x = keras.layers.Dropout(options["dropout"], name="pooled_dropout")(x)
    if options["ngrams"]:
        # The n-gram bag's score joins the recurrent features, and the output layer weighs the two.
        bag = HashedNgramBag(vocabulary_size, order=options["ngrams"], buckets=options["ngram_buckets"],
                             rate=options["ngram_dropout"], scale=options["ngram_scale"], seed=options["seed"],
                             name="ngram_bag")
        x = keras.layers.Concatenate(name="recurrent_and_ngrams")([x, bag(ids)])
    probability = keras.layers.Dense(1, activation="sigmoid", name="probability")(x)
    model = keras.Model(ids, probability, name="sentiment")
    model.compile(
        optimizer=keras.optimizers.Adam(options["learning_rate"], clipnorm=options["clipnorm"]),
        loss="binary_crossentropy",
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy"), keras.metrics.AUC(name="auc")],
    )
    return model


def build_run_model(options, vectorizer):
    """build_model for the run's vectorizer."""
    return build_model(options, vectorizer.vocabulary_size())
