"""Layers over token ids for taggers: character CNN features and word dropout."""

import keras
from keras import ops

from .cells import PACKAGE


@keras.saving.register_keras_serializable(package=PACKAGE)
class CharCNN(keras.layers.Layer):
    """Character features of each word (Ma & Hovy 2016): embed, convolve, max over characters.

    chars [B, T, C] int (0 = padding) -> [B, T, filters]. It sees capitals,
    digits, prefixes and suffixes, so it gives unknown words useful features.
    """

    def __init__(self, num_chars, embedding_dim=30, filters=50, kernel_size=3, **kwargs):
        super().__init__(**kwargs)
        self.num_chars = num_chars
        self.embedding_dim = embedding_dim
        self.filters = filters
        self.kernel_size = kernel_size

    def build(self, input_shape):
        self.char_embedding = self.add_weight(shape=(self.num_chars, self.embedding_dim), name="char_embedding",
                                              initializer=keras.initializers.RandomUniform(-0.1, 0.1))
        self.kernel = self.add_weight(shape=(self.kernel_size, self.embedding_dim, self.filters), name="kernel",
                                      initializer="glorot_uniform")
        self.bias = self.add_weight(shape=(self.filters,), name="bias", initializer="zeros")

    def call(self, chars):
        shape = ops.shape(chars)
        flat = ops.reshape(chars, (-1, shape[2]))  # [B*T, C]
        embedded = ops.take(self.char_embedding, flat, axis=0)
        features = ops.tanh(ops.conv(embedded, self.kernel, padding="same") + self.bias)  # [B*T, C, F]
        present = ops.expand_dims(flat > 0, -1)
        pooled = ops.max(ops.where(present, features, ops.full_like(features, -2.0)), axis=1)
        pooled = ops.where(ops.any(present, axis=1), pooled, ops.zeros_like(pooled))  # no chars: zeros
        return ops.reshape(pooled, (shape[0], shape[1], self.filters))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:2], self.filters)

    def get_config(self):
        return {**super().get_config(), "num_chars": self.num_chars, "embedding_dim": self.embedding_dim,
                "filters": self.filters, "kernel_size": self.kernel_size}


@keras.saving.register_keras_serializable(package=PACKAGE)
class TokenDropout(keras.layers.Layer):
    """In training, replaces each non-padding id by `oov_id` with probability `rate`.

    Teaches the embedding for unknown words, which otherwise never occurs in training.
    """

    def __init__(self, rate, oov_id=1, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate, self.oov_id, self.seed = float(rate), int(oov_id), seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, ids, training=False):
        if not training or self.rate == 0:
            return ids
        drop = keras.random.uniform(ops.shape(ids), seed=self.seed_generator) < self.rate
        return ops.where(drop & (ids > 0), ops.full_like(ids, self.oov_id), ids)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "oov_id": self.oov_id, "seed": self.seed}
