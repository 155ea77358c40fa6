"""Token embedding -> stacked RNN of our cells -> next-token logits (a softmax over the vocabulary)."""

import keras

from apps.common.training import weight_averaging
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
    if options.get("sampled_softmax"):
        if options["sampled_softmax"] >= vocabulary_size - 1:
            from apps.common.errors import UserError

            raise UserError(f"--sampled-softmax {options['sampled_softmax']} needs a vocabulary larger than that "
                            f"(this run's has {vocabulary_size} tokens): lower it, or leave it at 0")
        model = SampledSoftmaxLanguageModel(ids, logits, sampled=options["sampled_softmax"],
                                            seed=options["seed"], name="textgen")
    else:
        model = keras.Model(ids, logits, name="textgen")
    # Keras takes one kind of clipping: an element-wise clipvalue replaces the norm.
    clipping = {"clipvalue": options["clipvalue"]} if options["clipvalue"] else {"clipnorm": options["clipnorm"]}
    clipping.update(weight_averaging(options))
    model.compile(
        optimizer=keras.optimizers.AdamW(options["learning_rate"], weight_decay=options["weight_decay"], **clipping)
        if options["weight_decay"] else keras.optimizers.Adam(options["learning_rate"], **clipping),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model


@keras.saving.register_keras_serializable(package="textgen")
class SampledSoftmaxLanguageModel(keras.Model):
    """The same network, trained on a sampled softmax (Jean et al. 2015): token ids [B, T] -> logits [B, T, V].

    A step scores each real target token against `sampled` candidates drawn
    log-uniformly by rank (the vocabulary is sorted by frequency), instead of
    against the whole vocabulary: the output layer, which dominates a
    word-level model's cost (V x units per token), then costs
    `sampled` x units. The training loss is therefore the sampled estimate;
    validation, `evaluate` and serving use the full softmax (the model's
    call), so val_loss is the exact NLL per token. TensorFlow only: the apps'
    trainers run on it.
    """

    def __init__(self, *args, sampled, seed=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.sampled, self.seed = int(sampled), int(seed)

    def get_config(self):
        return {**super().get_config(), "sampled": self.sampled, "seed": self.seed}

    def _hidden(self, ids, training):
        """ids [B, T] -> the output layer's inputs [B, T, units], computed by the model's own layers."""
        from keras import ops

        mask = ops.not_equal(ids, 0)
        x = self.get_layer("embedding")(ids)
        for layer in self.layers:
            if layer.name.startswith("rnn_"):
                x = layer(x, mask=mask, training=training)
        return self.get_layer("output_dropout")(x, training=training)

    def train_step(self, data):
        import tensorflow as tf

        ids, targets = data[0], data[1]
        output = self.get_layer("logits")
        with tf.GradientTape() as tape:
            hidden = self._hidden(ids, training=True)
            real = tf.not_equal(targets, 0)  # padding is no target
            labels = tf.cast(tf.boolean_mask(targets, real), tf.int64)[:, None]
            losses = tf.nn.sampled_softmax_loss(
                weights=tf.transpose(output.kernel), biases=output.bias, labels=labels,
                inputs=tf.boolean_mask(hidden, real), num_sampled=self.sampled,
                num_classes=output.units, remove_accidental_hits=True, seed=self.seed)
            loss = tf.reduce_mean(losses)
            # The optimizer sums the replicas' gradients: each replica contributes its share of the mean.
            scaled = loss / tf.distribute.get_strategy().num_replicas_in_sync
        gradients = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        next(metric for metric in self.metrics if metric.name == "loss").update_state(loss)
        # Training accuracy needs the full softmax: estimated on the first 16 steps of each batch's first
        # sequence (a few per cent of a sampled step's cost).
        glimpse = (slice(0, 1), slice(0, 16))
        return self.compute_metrics(ids[glimpse], targets[glimpse], output(hidden[glimpse]), None)


def build_run_model(options, vocabulary):
    return build_model(options, len(vocabulary))
