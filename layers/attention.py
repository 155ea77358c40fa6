"""Attention over encoder outputs for encoder-decoder models.

Shapes, with B the batch, Tq query steps, Tv encoder steps:

    query:        [B, Tq, Dq]  or [B, Dq] for one decoder step
    values:       [B, Tv, Dv]  (the encoder outputs)
    values_mask:  [B, Tv] bool, False at padding (optional)
    returns:      context [B, Tq, Dv] (or [B, Dv]) and weights [B, Tq, Tv] (or [B, Tv])

The weights sum to one over the unpadded encoder steps and are exactly zero at
padded ones, so they can be plotted as an alignment matrix.
"""

import keras
from keras import ops

from .cells import PACKAGE


class _Attention(keras.layers.Layer):
    """Masked softmax over scores and the weighted sum of the values.

    Subclasses define `score(query [B, Tq, Dq], values [B, Tv, Dv]) -> [B, Tq, Tv]`.
    The padding of the values is given explicitly (`values_mask`); Keras masks
    arriving with the inputs are consumed, and the outputs carry none.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_mask(self, *args, **kwargs):
        return None

    def call(self, query, values, values_mask=None):
        single_step = len(query.shape) == 2
        if single_step:
            query = ops.expand_dims(query, 1)
        scores = self.score(query, values)
        if values_mask is not None:
            mask = ops.expand_dims(ops.cast(values_mask, "bool"), 1)
            # A large negative rather than -inf keeps an all-padding row finite.
            scores = ops.where(mask, scores, ops.full_like(scores, -1e9))
        weights = ops.softmax(scores, axis=-1)
        if values_mask is not None:
            weights = weights * ops.cast(mask, weights.dtype)
        context = ops.matmul(weights, values)
        if single_step:
            return ops.squeeze(context, 1), ops.squeeze(weights, 1)
        return context, weights

    def compute_output_shape(self, query_shape, values_shape, values_mask_shape=None):
        if len(query_shape) == 2:
            return (query_shape[0], values_shape[-1]), (query_shape[0], values_shape[1])
        return (
            (query_shape[0], query_shape[1], values_shape[-1]),
            (query_shape[0], query_shape[1], values_shape[1]),
        )


@keras.saving.register_keras_serializable(package=PACKAGE)
class BahdanauAttention(_Attention):
    """Additive attention (Bahdanau et al. 2015): score = vᵀ tanh(W_q q + W_v h)."""

    def __init__(self, units, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units <= 0:
            raise ValueError(f"`units` must be a positive integer, got {units!r}.")
        self.units = units
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, query_shape, values_shape, values_mask_shape=None):
        self.query_kernel = self.add_weight(
            shape=(query_shape[-1], self.units), name="query_kernel",
            initializer=self.kernel_initializer,
        )
        self.values_kernel = self.add_weight(
            shape=(values_shape[-1], self.units), name="values_kernel",
            initializer=self.kernel_initializer,
        )
        self.score_vector = self.add_weight(
            shape=(self.units,), name="score_vector", initializer=self.kernel_initializer
        )

    def score(self, query, values):
        q = ops.expand_dims(ops.matmul(query, self.query_kernel), 2)  # [B, Tq, 1, A]
        v = ops.expand_dims(ops.matmul(values, self.values_kernel), 1)  # [B, 1, Tv, A]
        return ops.sum(ops.tanh(q + v) * self.score_vector, axis=-1)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "kernel_initializer": keras.saving.serialize_keras_object(self.kernel_initializer),
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class LuongAttention(_Attention):
    """Multiplicative attention (Luong et al. 2015).

    `score="general"`: qᵀ W h, which lets Dq differ from Dv;
    `score="dot"`: qᵀ h, which needs Dq == Dv. `scale=True` divides the
    scores by sqrt(Dv), which keeps the softmax from saturating for large Dv.
    """

    def __init__(self, score="general", scale=False, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        if score not in ("general", "dot"):
            raise ValueError(f"`score` must be 'general' or 'dot', got {score!r}.")
        self.score_mode = score
        self.scale = bool(scale)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, query_shape, values_shape, values_mask_shape=None):
        if self.score_mode == "general":
            self.kernel = self.add_weight(
                shape=(query_shape[-1], values_shape[-1]), name="kernel",
                initializer=self.kernel_initializer,
            )
        elif query_shape[-1] != values_shape[-1]:
            raise ValueError(
                f"score='dot' needs query and values of one size, got {query_shape[-1]} "
                f"and {values_shape[-1]}; use score='general'."
            )

    def score(self, query, values):
        if self.score_mode == "general":
            query = ops.matmul(query, self.kernel)
        scores = ops.matmul(query, ops.transpose(values, (0, 2, 1)))
        if self.scale:
            scores = scores / ops.sqrt(ops.cast(ops.shape(values)[-1], scores.dtype))
        return scores

    def get_config(self):
        return {
            **super().get_config(),
            "score": self.score_mode,
            "scale": self.scale,
            "kernel_initializer": keras.saving.serialize_keras_object(self.kernel_initializer),
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class NotPadding(keras.layers.Layer):
    """ids [B, T] -> bool [B, T], True where the id is not 0 (padding)."""

    def call(self, ids):
        return ops.not_equal(ids, 0)

    def compute_output_shape(self, input_shape):
        return input_shape
