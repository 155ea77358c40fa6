"""Pooling over time that ignores padded steps."""

import keras
from keras import ops

from .cells import PACKAGE


@keras.saving.register_keras_serializable(package=PACKAGE)
class MaskedMaxMeanPooling(keras.layers.Layer):
    """Concatenated max and mean over the unpadded time steps.

    inputs [B, T, F] with a mask [B, T] -> [B, 2F]. A row with no unpadded
    step gives zeros rather than -inf or NaN.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            mask = ops.ones(ops.shape(inputs)[:2], dtype="bool")
        keep = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        count = ops.sum(keep, axis=1)
        mean = ops.sum(inputs * keep, axis=1) / ops.maximum(count, 1.0)
        lowest = ops.full_like(inputs, -1e9)
        maximum = ops.max(ops.where(keep > 0, inputs, lowest), axis=1)
        maximum = ops.where(count > 0, maximum, ops.zeros_like(maximum))
        return ops.concatenate([maximum, mean], axis=-1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 2 * input_shape[-1])
