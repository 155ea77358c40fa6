"""Stacking the outputs of an ensemble's members into one tensor."""

import keras
from keras import ops

from .cells import PACKAGE


@keras.saving.register_keras_serializable(package=PACKAGE)
class Stack(keras.layers.Layer):
    """M tensors of one shape [B, ..., K] -> [B, ..., M, ...], stacked on a new axis `axis`.

    The output carries no mask: the members' losses and decoders handle
    padding themselves (a [B, T] mask would be applied to per-sequence losses).
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True

    def call(self, inputs):
        return ops.stack(inputs, axis=self.axis)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shapes):
        shape = list(input_shapes[0])
        axis = self.axis if self.axis >= 0 else len(shape) + 1 + self.axis
        return tuple(shape[:axis] + [len(input_shapes)] + shape[axis:])

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
