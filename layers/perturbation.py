"""Where adversarial training perturbs a model's embeddings (Miyato, Dai & Goodfellow 2017)."""

import keras
from keras import ops

from .cells import PACKAGE


@keras.saving.register_keras_serializable(package=PACKAGE)
class EmbeddingPerturbation(keras.layers.Layer):
    """The identity on embeddings [B, T, E] (mask [B, T] passed on), except in an adversarial training step.

    A training step (`apps.common.adversarial.AdversarialModel`) reads `last_inputs`, the embeddings of the
    layer's last call, takes the loss's gradient g [B, T, E] with respect to them, sets `direction` to it and
    calls the model again: this call then returns

        inputs + epsilon * |inputs|_2 * g / |g|_2

    with both norms taken per example over its real (unmasked) steps, so that the perturbation is `epsilon`
    times the size of the example's own embeddings, whatever their scale (Miyato et al. normalise the
    embeddings instead; this keeps a model from escaping the perturbation by growing its embeddings). Padded
    steps are never perturbed. Without a direction (inference, export, any other step) the layer adds nothing.
    """

    def __init__(self, epsilon, **kwargs):
        super().__init__(**kwargs)
        if epsilon < 0:
            raise ValueError(f"epsilon must be at least 0, got {epsilon}")
        self.epsilon = float(epsilon)
        self.supports_masking = True
        self.direction = None  # set by the training step for one call
        self.last_inputs = None

    def call(self, inputs, mask=None):
        self.last_inputs = inputs
        if self.direction is None or self.epsilon == 0:
            return inputs
        real = ops.ones(ops.shape(inputs)[:2], inputs.dtype) if mask is None else ops.cast(mask, inputs.dtype)
        real = ops.expand_dims(real, -1)
        direction = ops.stop_gradient(self.direction) * real
        size = ops.sqrt(ops.sum(ops.square(inputs * real), axis=(1, 2), keepdims=True))
        length = ops.sqrt(ops.sum(ops.square(direction), axis=(1, 2), keepdims=True))
        return inputs + self.epsilon * ops.stop_gradient(size) * direction / ops.maximum(length, 1e-12)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}
