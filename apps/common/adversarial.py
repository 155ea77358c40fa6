"""Adversarial training on the embeddings (Miyato, Dai & Goodfellow 2017, "Adversarial training methods for
semi-supervised text classification"; Yasunaga et al. 2018 for taggers), for any app whose model has
`layers.EmbeddingPerturbation` layers after its embeddings."""

import keras

from layers.perturbation import EmbeddingPerturbation


def perturbation(options, name="embedding_perturbation"):
    """The layer that --adversarial-epsilon puts after the embeddings, or None when it is off (the model
    is then built exactly as before the option)."""
    epsilon = options.get("adversarial_epsilon") or 0.0
    return EmbeddingPerturbation(epsilon, name=name) if epsilon else None


def model_class(options):
    """`AdversarialModel` with --adversarial-epsilon, else `keras.Model`."""
    return AdversarialModel if options.get("adversarial_epsilon") else keras.Model


@keras.saving.register_keras_serializable(package="apps")
class AdversarialModel(keras.Model):
    """A functional model whose training step adds the loss of the adversarially perturbed batch.

    Each step: the loss L(x) and its gradients, with respect to the weights and to the embeddings e [B, T, E]
    that each `EmbeddingPerturbation` layer sees (one backward pass); then, with each such layer set to move
    its embeddings along its gradient, the loss L_adv of the same batch again; the weights take the gradient of
    L + L_adv. Twice the work of a plain step. Evaluation, prediction and export are those of the plain model.
    Built like a functional model, `AdversarialModel(inputs, outputs, name=...)`; saved and loaded as one.
    TensorFlow backend (its GradientTape), as the apps are.
    """

    def train_step(self, data):
        import tensorflow as tf

        hooks = [layer for layer in self.layers if isinstance(layer, EmbeddingPerturbation) and layer.epsilon > 0]
        if not hooks:
            return super().train_step(data)
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
            embedded = [hook.last_inputs for hook in hooks]
        weights = self.trainable_weights
        gradients = tape.gradient(loss, [*embedded, *weights])
        for hook, direction in zip(hooks, gradients[:len(hooks)]):
            hook.direction = tf.zeros_like(hook.last_inputs) if direction is None else direction
        try:
            with tf.GradientTape() as tape:
                y_adversarial = self(x, training=True)
                adversarial_loss = self.compute_loss(x=x, y=y, y_pred=y_adversarial, sample_weight=sample_weight,
                                                     training=True)
        finally:
            for hook in hooks:
                hook.direction = hook.last_inputs = None  # plain calls from here on, holding no tensor
        adversarial_gradients = tape.gradient(adversarial_loss, weights)
        self.optimizer.apply_gradients(
            (_sum(g, a), w) for g, a, w in zip(gradients[len(hooks):], adversarial_gradients, weights))
        replicas = tf.distribute.get_strategy().num_replicas_in_sync  # a replica's loss is divided by their number
        for metric in self.metrics:
            if metric.name == "loss":  # the clean batch's loss, as a plain step reports
                metric.update_state(loss * replicas, sample_weight=tf.shape(tf.nest.flatten(x)[0])[0])
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)


def _sum(gradient, other):
    """gradient + other, either None (no path) or, for an embedding, both sparse tf.IndexedSlices, which stay
    sparse (a row in both is summed when the optimizer applies them)."""
    import tensorflow as tf

    if gradient is None or other is None:
        return other if gradient is None else gradient
    if isinstance(gradient, tf.IndexedSlices) and isinstance(other, tf.IndexedSlices):
        return tf.IndexedSlices(tf.concat([gradient.values, other.values], 0),
                                tf.concat([gradient.indices, other.indices], 0), gradient.dense_shape)
    return tf.convert_to_tensor(gradient) + tf.convert_to_tensor(other)
