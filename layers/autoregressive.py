"""`AutoregressiveBernoulli`: a joint distribution over K binary units, given a context.

Independent sigmoid outputs model p(x | h) as a product of K Bernoullis, which
cannot say "if C and E sound, G is likely": the keys of one chord are
strongly dependent. This layer factorises the joint by the chain rule in key
order instead (NADE, Larochelle and Murray 2011, as in the RNN-NADE of
Boulanger-Lewandowski et al. 2012), with MADE's masks (Germain et al. 2015)
so that one pass gives every conditional:

    hidden = act(h Wc + x (Wx * Mx) + b_hidden)                      [.., H]
    logit_k = (hidden (Wo * Mo))_k + (x (Wd * Md))_k + (h Vc)_k + b_k   [.., K]

The masks give logit_k a path from x_j only where j < k, so
p(x | h) = prod_k sigmoid(logit_k)^x_k (1 - sigmoid(logit_k))^(1 - x_k) is a
normalised distribution over all 2^K vectors, and its negative log is the sum
of the K binary cross-entropies: the same loss as independent outputs, now an
exact joint likelihood. Training feeds the observed x (teacher forcing);
`sample` draws the keys one at a time.
"""

import keras
import numpy as np
from keras import ops

from .cells import PACKAGE


def made_masks(keys, hidden_units):
    """Masks for inputs -> hidden [K, H], hidden -> outputs [H, K] and inputs -> outputs [K, K].

    Input k has degree k + 1 (1..K); hidden unit d has degree 1 + d mod (K - 1)
    (1..K-1, spread evenly); hidden d sees inputs of degree <= its own, output k
    sees hidden units of degree < k + 1 and, directly, inputs j < k.
    """
    input_degree = np.arange(1, keys + 1)
    hidden_degree = 1 + np.arange(hidden_units) % max(keys - 1, 1)
    to_hidden = (input_degree[:, None] <= hidden_degree[None, :]).astype("float32")
    to_output = (hidden_degree[:, None] < input_degree[None, :]).astype("float32")
    direct = np.tril(np.ones((keys, keys), "float32"), k=-1).T  # [j, k] = 1 where j < k
    return to_hidden, to_output, direct


@keras.saving.register_keras_serializable(package=PACKAGE)
class AutoregressiveBernoulli(keras.layers.Layer):
    """[context [.., C], observed [.., K]] -> P(x_k = 1 | context, x_<k) [.., K].

    Args:
        hidden_units: width H of the masked hidden layer (0: only the direct,
            linear x_<k -> x_k connections, a conditional FVSBN).
        activation: of the hidden layer.
        dropout: on the hidden layer, when training.
        seed: of the dropout.
        returns: "probabilities" (the layer's output is P(x_k = 1 | ...)) or
            "logits" (their logits, for a loss computed exactly from logits).
    """

    RETURNS = ("probabilities", "logits")

    def __init__(self, hidden_units=128, activation="relu", dropout=0.0, seed=None,
                 kernel_initializer="glorot_uniform", returns="probabilities", **kwargs):
        if not isinstance(hidden_units, int) or isinstance(hidden_units, bool) or hidden_units < 0:
            raise ValueError(f"`hidden_units` must be a non-negative integer, got {hidden_units!r}.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"`dropout` must be in [0, 1), got {dropout!r}.")
        if returns not in self.RETURNS:
            raise ValueError(f"`returns` must be one of {self.RETURNS}, got {returns!r}.")
        super().__init__(**kwargs)
        self.returns = returns
        self.hidden_units = hidden_units
        self.activation = keras.activations.get(activation)
        self.dropout = dropout
        self.seed = seed
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.seed_generator = keras.random.SeedGenerator(seed) if dropout else None

    def build(self, input_shape):
        context_shape, observed_shape = input_shape
        context, keys = context_shape[-1], observed_shape[-1]
        if context is None or keys is None:
            raise ValueError(f"the last axes of both inputs must be known, got {input_shape}.")
        self.keys = keys
        to_hidden, to_output, direct = made_masks(keys, self.hidden_units)
        init = self.kernel_initializer
        self.context_to_output = self.add_weight(name="context_to_output", shape=(context, keys), initializer=init)
        self.direct_kernel = self.add_weight(name="direct_kernel", shape=(keys, keys), initializer="zeros")
        self.output_bias = self.add_weight(name="output_bias", shape=(keys,), initializer="zeros")
        # Masks are constants of the shapes, not weights: nothing to save or train.
        self._direct_mask = ops.convert_to_tensor(direct)
        if self.hidden_units:
            h = self.hidden_units
            self.context_to_hidden = self.add_weight(name="context_to_hidden", shape=(context, h), initializer=init)
            self.input_to_hidden = self.add_weight(name="input_to_hidden", shape=(keys, h), initializer=init)
            self.hidden_bias = self.add_weight(name="hidden_bias", shape=(h,), initializer="zeros")
            self.hidden_to_output = self.add_weight(name="hidden_to_output", shape=(h, keys), initializer=init)
            self._to_hidden_mask = ops.convert_to_tensor(to_hidden)
            self._to_output_mask = ops.convert_to_tensor(to_output)

    def call(self, inputs, training=False):
        logits = self.logits(inputs, training=training)
        return logits if self.returns == "logits" else ops.sigmoid(logits)

    def logits(self, inputs, training=False):
        """[context [.., C], observed [.., K]] -> logits [.., K], logit k a function of observed[..., :k]."""
        context, observed = inputs
        observed = ops.cast(observed, context.dtype)
        logits = (ops.matmul(context, self.context_to_output) + self.output_bias
                  + ops.matmul(observed, self.direct_kernel * self._direct_mask))
        if self.hidden_units:
            hidden = self.activation(ops.matmul(context, self.context_to_hidden) + self.hidden_bias
                                     + ops.matmul(observed, self.input_to_hidden * self._to_hidden_mask))
            if training and self.dropout:
                hidden = keras.random.dropout(hidden, self.dropout, seed=self.seed_generator)
            logits = logits + ops.matmul(hidden, self.hidden_to_output * self._to_output_mask)
        return logits

    def sample(self, context, seed, temperature=1.0):
        """One joint draw per context row: context [.., C] -> x [.., K] in {0, 1}, key by key (K passes)."""
        keys = self.keys
        observed = ops.zeros(tuple(ops.shape(context)[:-1]) + (keys,), dtype=context.dtype)
        generator = keras.random.SeedGenerator(seed)
        for k in range(keys):
            logit = self.logits([context, observed])[..., k] / temperature
            draw = ops.cast(keras.random.uniform(ops.shape(logit), seed=generator) < ops.sigmoid(logit),
                            context.dtype)
            observed = observed + ops.expand_dims(draw, -1) * ops.one_hot(k, keys, dtype=context.dtype)
        return observed

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[1])

    def get_config(self):
        return {**super().get_config(), "hidden_units": self.hidden_units,
                "activation": keras.activations.serialize(self.activation), "dropout": self.dropout,
                "seed": self.seed, "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "returns": self.returns}
