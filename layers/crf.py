"""Linear-chain conditional random field over per-step tag scores.

Shapes, with B the batch, T steps, K tags:

    emissions [B, T, K] float   scores of each tag at each step (from a Dense layer)
    tags      [B, T]    int     gold tags
    mask      [B, T]    bool    True at real steps; real steps come first in each row

`CRF` is the model's last layer: in `call` it passes the emissions through (so
the model's output is the emissions), and it owns the transition, start and end
scores used by `log_likelihood` (training, through `CRFLoss`) and `decode`
(Viterbi). Sequences of length 0 are allowed and give an empty path.
"""

import keras
from keras import ops

from .cells import PACKAGE


@keras.saving.register_keras_serializable(package=PACKAGE)
class CRF(keras.layers.Layer):
    """A linear-chain conditional random field over per-step tag scores.

    emissions [B, T, K] (K = `num_tags`) -> the same emissions [B, T, K]: the
    layer holds the transition scores [K, K] and the start and end scores [K];
    `log_likelihood(emissions, tags [B, T], mask [B, T])` -> [B] (the forward
    algorithm) trains them through `CRFLoss`, and `decode(emissions, mask)` ->
    best tags [B, T] (Viterbi). The output carries no mask: the loss and the
    decoder handle padding themselves.
    """

    def __init__(self, num_tags, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(num_tags, int) or num_tags < 1:
            raise ValueError(f"`num_tags` must be a positive integer, got {num_tags!r}.")
        self.num_tags = num_tags
        self.supports_masking = True

    def build(self, input_shape):
        if input_shape[-1] != self.num_tags:
            raise ValueError(f"emissions have {input_shape[-1]} scores per step, expected {self.num_tags}")
        init = keras.initializers.RandomUniform(-0.1, 0.1)
        self.transitions = self.add_weight(shape=(self.num_tags, self.num_tags), name="transitions",
                                           initializer=init)
        self.start_scores = self.add_weight(shape=(self.num_tags,), name="start_scores", initializer=init)
        self.end_scores = self.add_weight(shape=(self.num_tags,), name="end_scores", initializer=init)

    def call(self, emissions, mask=None):
        # A new tensor: the input object carries the previous layer's mask.
        return ops.copy(emissions)

    def compute_mask(self, inputs, mask=None):
        # No mask on the output: Keras would multiply the per-sequence loss
        # [B] by a [B, T] mask. CRFLoss and decode handle padding themselves.
        return None

    def log_likelihood(self, emissions, tags, mask=None):
        """log p(tags | emissions) per sequence: [B]."""
        mask = _real_steps(emissions, mask)
        emissions, mask, tags = _two_steps_at_least(ops.cast(emissions, "float32"), mask, ops.cast(tags, "int32"))
        maskf = ops.cast(mask, "float32")
        lengths = ops.sum(ops.cast(mask, "int32"), axis=1)
        any_step = ops.cast(lengths > 0, "float32")

        # Score of the gold path.
        onehot = ops.one_hot(tags, self.num_tags)  # [B, T, K]
        emitted = ops.sum(ops.sum(emissions * onehot, axis=-1) * maskf, axis=1)
        start = ops.sum(onehot[:, 0] * self.start_scores, axis=-1) * any_step
        pair = ops.einsum("bti,ij,btj->bt", onehot[:, :-1], self.transitions, onehot[:, 1:])
        transitions = ops.sum(pair * maskf[:, 1:], axis=1)
        last = ops.take_along_axis(tags, ops.expand_dims(ops.maximum(lengths - 1, 0), 1), axis=1)[:, 0]
        end = ops.sum(ops.one_hot(last, self.num_tags) * self.end_scores, axis=-1) * any_step
        gold = emitted + start + transitions + end

        # log Z by the forward algorithm; padded steps carry alpha unchanged.
        alpha0 = self.start_scores + emissions[:, 0]

        def step(alpha, inputs):
            emission, step_mask = inputs[:, :-1], inputs[:, -1] > 0
            scores = ops.expand_dims(alpha, 2) + self.transitions  # [B, K, K]
            new = ops.logsumexp(scores, axis=1) + emission
            alpha = ops.where(ops.expand_dims(step_mask, 1), new, alpha)
            return alpha, alpha

        alpha, _ = ops.scan(step, alpha0, _steps_after_first(emissions, mask))
        log_z = ops.logsumexp(alpha + self.end_scores, axis=1) * any_step
        return gold - log_z

    def decode(self, emissions, mask=None):
        """The most likely tags by Viterbi: [B, T] int32, 0 at padded steps."""
        return viterbi(emissions, _real_steps(emissions, mask), self.transitions, self.start_scores,
                       self.end_scores)

    def get_config(self):
        return {**super().get_config(), "num_tags": self.num_tags}


def _real_steps(emissions, mask):
    if mask is None:
        return ops.ones(ops.shape(emissions)[:2], dtype="bool")
    return ops.cast(mask, "bool")


def _two_steps_at_least(emissions, mask, tags=None):
    """Appends one padded step when T < 2; padding never changes a result.

    With one step the scans would run over nothing, and TensorFlow cannot
    stack an empty list of unknown shape.
    """
    steps = emissions.shape[1]
    if steps is not None:  # known when traced (always on JAX, whose pad needs a static width)
        if steps >= 2:
            return emissions, mask, tags
        extra = 2 - steps
    else:
        extra = ops.maximum(2 - ops.shape(emissions)[1], 0)
    emissions = ops.pad(emissions, [[0, 0], [0, extra], [0, 0]])
    mask = ops.pad(mask, [[0, 0], [0, extra]], constant_values=False)
    if tags is not None:
        tags = ops.pad(tags, [[0, 0], [0, extra]])
    return emissions, mask, tags


def _steps_after_first(emissions, mask):
    """Time-major [T-1, B, K+1]: emissions with the mask as a last channel.

    One scanned tensor, not two: Keras' TensorFlow scan fails on several
    inputs whose time length is unknown when the graph is traced.
    """
    joined = ops.concatenate([emissions, ops.expand_dims(ops.cast(mask, emissions.dtype), -1)], axis=-1)
    return ops.transpose(joined[:, 1:], (1, 0, 2))


def viterbi(emissions, mask, transitions, start_scores, end_scores):
    """The best path of a linear-chain CRF with these scores: [B, T] int32, 0 at padded steps.

    emissions [B, T, K], mask [B, T] bool (real steps first), transitions [K, K]
    (from, to), start_scores and end_scores [K].
    """
    steps = ops.shape(emissions)[1]
    emissions, mask, _ = _two_steps_at_least(ops.cast(emissions, "float32"), ops.cast(mask, "bool"))
    identity = ops.broadcast_to(ops.arange(transitions.shape[0], dtype="int32"), ops.shape(emissions[:, 0]))
    delta0 = start_scores + emissions[:, 0]

    def forward(delta, inputs):
        emission, step_mask = inputs[:, :-1], inputs[:, -1] > 0
        scores = ops.expand_dims(delta, 2) + transitions  # [B, from, to]
        best_prev = ops.cast(ops.argmax(scores, axis=1), "int32")
        new = ops.max(scores, axis=1) + emission
        keep = ops.expand_dims(step_mask, 1)
        # A padded step keeps delta and points each tag back to itself.
        # (Sent out as float: TensorFlow's scan gives outputs the carry's dtype.)
        pointers = ops.where(keep, best_prev, identity)
        return ops.where(keep, new, delta), ops.cast(pointers, delta.dtype)

    delta, backpointers = ops.scan(forward, delta0, _steps_after_first(emissions, mask))  # [T-1, B, K]
    backpointers = ops.cast(backpointers, "int32")
    best_last = ops.cast(ops.argmax(delta + end_scores, axis=1), "int32")

    def backward(tag, pointers):
        previous = ops.take_along_axis(pointers, ops.expand_dims(tag, 1), axis=1)[:, 0]
        return previous, tag

    first, later = ops.scan(backward, best_last, backpointers, reverse=True)  # later [T-1, B]
    path = ops.concatenate([ops.expand_dims(first, 1), ops.transpose(later, (1, 0))], axis=1)
    return ops.where(mask, path, ops.zeros_like(path))[:, :steps]


def ensemble_decode(crfs, emissions, mask=None):
    """Viterbi over the mean of M CRFs' scores: emissions [B, T, M, K] (member m's from crfs[m]) -> tags [B, T].

    Averaging the members' emissions and transition, start and end scores
    decodes the geometric mean of their path distributions (a product of
    experts), one path for all members rather than a vote per step.
    """
    def mean(name):
        return sum(getattr(crf, name) for crf in crfs) / len(crfs)

    emissions = ops.mean(ops.cast(emissions, "float32"), axis=2)
    return viterbi(emissions, _real_steps(emissions, mask), mean("transitions"), mean("start_scores"),
                   mean("end_scores"))


@keras.saving.register_keras_serializable(package=PACKAGE)
class CRFLoss(keras.losses.Loss):
    """Mean negative log-likelihood of the gold tags per token; y_true [B, T] uses -1 for padding.

    Give it the model's CRF layer: the loss reads its transition scores, so they
    are trained along with the rest of the model. For an ensemble give the
    list of its M members' CRF layers: y_pred is then [B, T, M, K] (member m's
    emissions at [:, :, m]) and the loss is the sum of the members' losses, so
    that each member, with weights of its own, is trained as it would be alone.
    """

    def __init__(self, crf=None, name="crf_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.crf = crf

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "int32")
        mask = y_true >= 0
        tags = ops.maximum(y_true, 0)
        if isinstance(self.crf, (list, tuple)):
            nll = sum(-crf.log_likelihood(y_pred[:, :, m], tags, mask) for m, crf in enumerate(self.crf))
        else:
            nll = -self.crf.log_likelihood(y_pred, tags, mask)
        lengths = ops.maximum(ops.sum(ops.cast(mask, "float32"), axis=1), 1.0)
        return nll / lengths  # per token, so the scale does not grow with length

    def get_config(self):
        serialize = keras.saving.serialize_keras_object
        crf = [serialize(c) for c in self.crf] if isinstance(self.crf, (list, tuple)) else \
            None if self.crf is None else serialize(self.crf)
        return {"name": self.name, "reduction": self.reduction, "crf": crf}

    @classmethod
    def from_config(cls, config):
        """A loss with CRFs like those it was saved with. They are new layers, not the model's: give the
        model's CRF(s) (`CRFLoss(model.get_layer(...))`) to train a reloaded model further."""
        config = dict(config)
        deserialize = keras.saving.deserialize_keras_object
        if isinstance(config.get("crf"), list):
            config["crf"] = [deserialize(c) for c in config["crf"]]
        elif config.get("crf") is not None:
            config["crf"] = deserialize(config["crf"])
        return cls(**config)
