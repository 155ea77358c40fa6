"""A bag of hashed n-grams of token ids: the linear n-gram features of NBSVM and fastText, inside the graph."""

import keras
from keras import ops

# Multiplier of the rolling hash; prime, and small enough that (bucket * multiplier + id) stays far inside int64.
_HASH_MULTIPLIER = 1_000_003


@keras.saving.register_keras_serializable(package="layers")
class HashedNgramBag(keras.layers.Layer):
    """Scaled sum of learned vectors of every word and every hashed n-gram (2..order) of a text.

    ids [B, T] int (0 = padding) -> [B, output_dim]. Words keep their own rows
    (ids < vocabulary_size); an n-gram of ids (a, b, ...) shares one of
    `buckets` rows with the others of its hash, as in fastText. N-grams that
    touch padding are left out, so the result does not depend on how far a
    batch is padded. `rate` drops whole n-grams in training (the mean is taken
    over those kept), a regulariser for the millions of rare features.
    `scale` multiplies the result: Adam moves every row by about the learning
    rate per step whatever its gradient, so `scale` is this layer's learning
    rate relative to the rest of the model. The sum is divided by the square
    root of the number of n-grams (between a sum and a mean: long texts give
    firmer, not larger, evidence). A row with no token gives zeros.
    """

    def __init__(self, vocabulary_size, order=2, buckets=2**21, output_dim=1, rate=0.0, scale=1.0, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        if order < 1:
            raise ValueError(f"order must be at least 1, got {order}")
        self.vocabulary_size, self.order, self.buckets = int(vocabulary_size), int(order), int(buckets)
        self.output_dim, self.rate, self.scale, self.seed = int(output_dim), float(rate), float(scale), seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        rows = self.vocabulary_size + (self.buckets if self.order > 1 else 0)
        self.table = self.add_weight(name="table", shape=(rows, self.output_dim), initializer="zeros")
        self.built = True

    def ngram_ids(self, ids):
        """ids [B, T] -> (rows [B, T, order] int64, kept [B, T, order] bool): n-grams ending at each step."""
        ids = ops.cast(ids, "int64")
        rows, kept = [ids], [ids > 0]
        hashed, all_real = ops.zeros_like(ids), ids > 0
        for n in range(2, self.order + 1):
            # Shift right by one step: the n-gram ending at t extends the (n-1)-gram ending at t-1.
            previous_hash = ops.pad(hashed, [[0, 0], [1, 0]])[:, :-1] if n > 2 else \
                ops.pad(ids, [[0, 0], [1, 0]])[:, :-1]
            previous_real = ops.pad(all_real, [[0, 0], [1, 0]], constant_values=False)[:, :-1]
            hashed = ops.mod(previous_hash * _HASH_MULTIPLIER + ids, self.buckets)
            all_real = ops.logical_and(all_real, previous_real)
            rows.append(self.vocabulary_size + hashed)
            kept.append(all_real)
        return ops.stack(rows, axis=-1), ops.stack(kept, axis=-1)

    def call(self, ids, training=False):
        rows, kept = self.ngram_ids(ids)
        if training and self.rate > 0:
            survive = keras.random.uniform(ops.shape(rows), seed=self.seed_generator) >= self.rate
            kept = ops.logical_and(kept, survive)
        weights = ops.cast(kept, self.compute_dtype)
        vectors = ops.take(self.table, ops.where(kept, rows, 0), axis=0)  # [B, T, order, D]
        total = ops.sum(vectors * ops.expand_dims(weights, -1), axis=(1, 2))
        count = ops.sum(weights, axis=(1, 2))
        return self.scale * total / ops.expand_dims(ops.sqrt(ops.maximum(count, 1.0)), -1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.output_dim)

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size, "order": self.order,
                "buckets": self.buckets, "output_dim": self.output_dim, "rate": self.rate, "scale": self.scale,
                "seed": self.seed}

