"""An auxiliary language-modelling cost for a tagger's bidirectional features (Rei 2017)."""

import keras
from keras import ops

from .cells import PACKAGE


@keras.saving.register_keras_serializable(package=PACKAGE)
class NeighbourWordLoss(keras.layers.Layer):
    """In training, adds the cost of predicting each step's neighbouring words from a BiRNN's features.

    Rei (2017), "Semi-supervised multitask learning for sequence labeling": the
    forward half of step t's features predicts word t+1 and the backward half
    word t-1, each through a small tanh layer and a softmax over the
    `vocabulary_size` most frequent words (ids 1 .. vocabulary_size-1; every
    rarer id is one class, `vocabulary_size`). No labels are needed, so the
    tagger's text teaches the recurrent layer more than the tags alone do.

    inputs: [features [B, T, 2U] (forward states, then backward, as
    `Bidirectional` concatenates them), words [B, T] int ids by frequency,
    0 at padding] -> the features unchanged. In training it adds
    `weight` x (forward + backward mean cross-entropy over the steps that have
    a real neighbour) to the model's losses; otherwise it computes nothing.
    """

    def __init__(self, vocabulary_size, weight=0.1, hidden_units=50, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size, self.weight, self.hidden_units = int(vocabulary_size), float(weight), int(hidden_units)
        self.supports_masking = True

    def build(self, input_shape):
        features_shape = input_shape[0]
        self.units = features_shape[-1] // 2
        self.forward_hidden, self.forward_words = self._head("forward")
        self.backward_hidden, self.backward_words = self._head("backward")
        self.built = True

    def _head(self, direction):
        hidden = keras.layers.Dense(self.hidden_units, activation="tanh", name=f"{direction}_hidden")
        words = keras.layers.Dense(self.vocabulary_size + 1, name=f"{direction}_words")
        hidden.build((None, None, self.units))
        words.build((None, None, self.hidden_units))
        return hidden, words

    def call(self, inputs, training=False):
        features, words = inputs
        if not training or self.weight == 0:
            return features
        words = ops.cast(words, "int32")
        # Forward states of steps 0..T-2 predict words 1..T-1; backward states of 1..T-1 predict 0..T-2.
        # Only pairs of real steps count: a padded step's state, or a padded neighbour, is no example.
        pairs = ops.cast((words[:, :-1] > 0) & (words[:, 1:] > 0), "float32")
        forward = self._cost("forward", features[:, :-1, :self.units], words[:, 1:], pairs)
        backward = self._cost("backward", features[:, 1:, self.units:], words[:, :-1], pairs)
        self.add_loss(self.weight * (forward + backward))
        return features

    def _cost(self, direction, states, targets, real):
        """Mean cross-entropy of targets [B, T-1] given states [B, T-1, U], over the pairs where real [B, T-1] is 1."""
        hidden, words = getattr(self, f"{direction}_hidden"), getattr(self, f"{direction}_words")
        logits = words(hidden(states))
        classes = ops.minimum(targets, self.vocabulary_size)
        cost = keras.losses.sparse_categorical_crossentropy(classes, ops.cast(logits, "float32"), from_logits=True)
        return ops.sum(cost * real) / ops.maximum(ops.sum(real), 1.0)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def compute_mask(self, inputs, mask=None):
        return mask[0] if isinstance(mask, (list, tuple)) else mask

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size, "weight": self.weight,
                "hidden_units": self.hidden_units}
