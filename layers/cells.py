"""Recurrent cells written with `keras.ops` only, for `keras.layers.RNN`.

Each cell computes one time step. Shapes, with B the batch size, D the input
size and U = `units`:

    inputs:  [B, D]
    states:  list of [B, U] tensors (one for MyRNNCell and GRUCell, two for LSTMCell)
    returns: (output [B, U], new states)

Weights are named and laid out exactly as in Keras' own `SimpleRNNCell`,
`GRUCell` and `LSTMCell` (`kernel` [D, G*U], `recurrent_kernel` [U, G*U],
`bias`; gate order z, r, h for the GRU and i, f, c, o for the LSTM), so that
weights trained with a Keras cell load into ours and give the same numbers.

Dropout follows Keras' contract: one mask per sequence (drawn by
`keras.layers.RNN` before its loop, the same at every time step), applied only
when `training` is true.
"""

import keras
from keras import ops

from .keras_internals import DropoutRNNCell

PACKAGE = "seqapps"


class _RecurrentCell(DropoutRNNCell, keras.layers.Layer):
    """Shared arguments, weights and config of the three cells.

    Subclasses set `gates` (how many U-wide blocks the kernels hold) and
    implement `call`.
    """

    gates = 1

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"`units` must be a positive integer, got {units!r}.")
        for name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0.0 <= rate < 1.0:
                raise ValueError(f"`{name}` must be in [0, 1), got {rate!r}.")
        super().__init__(**kwargs)
        self.units = units
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = keras.regularizers.get(recurrent_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.recurrent_constraint = keras.constraints.get(recurrent_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed=seed)
        self.state_size = units
        self.output_size = units

    def _bias_shape(self):
        return (self.gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    def build(self, input_shape):
        input_dim = input_shape[-1]
        width = self.gates * self.units
        self.kernel = self.add_weight(
            shape=(input_dim, width),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, width),
            name="recurrent_kernel",
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=self._bias_shape(),
                name="bias",
                initializer=self._bias_initializer(),
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        self.built = True

    def _input_bias(self):
        return self.bias

    def project_inputs(self, inputs, training=False, time_major=False):
        """The part of a step that does not depend on the state: dropout(x) W + b.

        Works on one step, [B, D] -> [B, G*U], or on a whole sequence at once,
        [B, T, D] -> [B, T, G*U] ([T, B, D] -> [T, B, G*U] if `time_major`),
        which is one large matmul instead of T small ones (what `layers.RNN`
        does). The dropout mask is the same at every time step either way.
        """
        if training and self.dropout > 0.0:
            if len(inputs.shape) == 2:
                inputs = inputs * self.get_dropout_mask(inputs)
            elif time_major:
                inputs = inputs * self.get_dropout_mask(inputs[0])
            else:
                inputs = inputs * ops.expand_dims(self.get_dropout_mask(inputs[:, 0]), 1)
        if len(inputs.shape) == 3:
            # As one 2-D matmul: a broadcast batch matmul's kernel gradient is a
            # [T, D, G*U] tensor summed afterwards.
            leading = ops.shape(inputs)[:2]
            flat = ops.reshape(inputs, (-1, inputs.shape[-1]))
            projected = ops.reshape(ops.matmul(flat, self.kernel), (leading[0], leading[1], -1))
        else:
            projected = ops.matmul(inputs, self.kernel)
        if self.use_bias:
            projected = projected + self._input_bias()
        return projected

    def call(self, inputs, states, training=False):
        return self.step(self.project_inputs(inputs, training), states, training)

    def step(self, projected, states, training=False):
        """One time step from projected inputs [B, G*U]: (output [B, U], new states)."""
        raise NotImplementedError

    def _dropped_state(self, state, training):
        if training and self.recurrent_dropout > 0.0:
            return state * self.get_recurrent_dropout_mask(state)
        return state

    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.state_size]
        return [ops.zeros((batch_size, size), dtype=self.compute_dtype) for size in sizes]

    def get_config(self):
        ser = keras.saving.serialize_keras_object
        config = {
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": ser(self.kernel_initializer),
            "recurrent_initializer": ser(self.recurrent_initializer),
            "bias_initializer": ser(self.bias_initializer),
            "kernel_regularizer": ser(self.kernel_regularizer),
            "recurrent_regularizer": ser(self.recurrent_regularizer),
            "bias_regularizer": ser(self.bias_regularizer),
            "kernel_constraint": ser(self.kernel_constraint),
            "recurrent_constraint": ser(self.recurrent_constraint),
            "bias_constraint": ser(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }
        return {**super().get_config(), **config}


@keras.saving.register_keras_serializable(package=PACKAGE)
class MyRNNCell(_RecurrentCell):
    """Elman cell: a<t> = g(W_ax x<t> + W_aa a<t-1> + b_a).

    `kernel` is W_ax transposed ([D, U]), `recurrent_kernel` is W_aa
    transposed ([U, U]), as in `keras.layers.SimpleRNNCell`. For the IRNN of
    Le et al. 2015 (ReLU with an identity recurrent matrix, against vanishing
    gradients) use `MyRNNCell.irnn(units)`.
    """

    gates = 1

    @classmethod
    def irnn(cls, units, **kwargs):
        """ReLU cell whose recurrent matrix starts as the identity."""
        kwargs.setdefault("activation", "relu")
        kwargs.setdefault("recurrent_initializer", keras.initializers.Identity())
        return cls(units, **kwargs)

    def step(self, projected, states, training=False):
        a_prev = states[0] if isinstance(states, (list, tuple)) else states
        a_prev = self._dropped_state(a_prev, training)
        a = self.activation(projected + ops.matmul(a_prev, self.recurrent_kernel))
        return a, [a]


class _GatedCell(_RecurrentCell):
    """Adds the gates' `recurrent_activation` to the shared arguments."""

    def __init__(self, units, recurrent_activation="sigmoid", **kwargs):
        super().__init__(units, **kwargs)
        self.recurrent_activation = keras.activations.get(recurrent_activation)

    def get_config(self):
        return {
            **super().get_config(),
            "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class GRUCell(_GatedCell):
    """Gated recurrent unit with update gate Γu (z) and relevance gate Γr (r).

        Γu = σ(x W_z + a<t-1> U_z + b_z)
        Γr = σ(x W_r + a<t-1> U_r + b_r)
        reset_after=False (Cho et al. 2014, the course notes):
            ã = tanh(x W_h + (Γr * a<t-1>) U_h + b_h)
        reset_after=True (cuDNN and Keras' default):
            ã = tanh(x W_h + b_h + Γr * (a<t-1> U_h + b'_h))
        a<t> = Γu * a<t-1> + (1 - Γu) * ã

    The last line is Keras' convention (Γu keeps the old state); the course
    notes write the same thing with Γu and 1 - Γu swapped. With
    `reset_after=True` the bias has shape [2, 3U]: the input bias and the
    recurrent bias, as in Keras.
    """

    gates = 3

    def __init__(self, units, reset_after=True, **kwargs):
        super().__init__(units, **kwargs)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _input_bias(self):
        return self.bias[0] if self.reset_after else self.bias

    def step(self, projected, states, training=False):
        a_prev = states[0] if isinstance(states, (list, tuple)) else states
        a_rec = self._dropped_state(a_prev, training)
        u = self.units
        x_z, x_r, x_h = ops.split(projected, 3, axis=-1)

        if self.reset_after:
            rec = ops.matmul(a_rec, self.recurrent_kernel)
            if self.use_bias:
                rec = rec + self.bias[1]
            rec_z, rec_r, rec_h = ops.split(rec, 3, axis=-1)
            z = self.recurrent_activation(x_z + rec_z)
            r = self.recurrent_activation(x_r + rec_r)
            candidate = self.activation(x_h + r * rec_h)
        else:
            rec_z, rec_r = ops.split(ops.matmul(a_rec, self.recurrent_kernel[:, : 2 * u]), 2, axis=-1)
            z = self.recurrent_activation(x_z + rec_z)
            r = self.recurrent_activation(x_r + rec_r)
            candidate = self.activation(
                x_h + ops.matmul(r * a_rec, self.recurrent_kernel[:, 2 * u :])
            )
        a = z * a_prev + (1.0 - z) * candidate
        return a, [a]

    def get_config(self):
        return {**super().get_config(), "reset_after": self.reset_after}


@keras.saving.register_keras_serializable(package=PACKAGE)
class LSTMCell(_GatedCell):
    """Long short-term memory with a cell state c separate from the output a.

        Γi = σ(x W_i + a<t-1> U_i + b_i)      update (input) gate
        Γf = σ(x W_f + a<t-1> U_f + b_f)      forget gate
        c̃  = tanh(x W_c + a<t-1> U_c + b_c)
        Γo = σ(x W_o + a<t-1> U_o + b_o)      output gate
        c<t> = Γf * c<t-1> + Γi * c̃
        a<t> = Γo * tanh(c<t>)

    States: [a, c], each [B, U]. `unit_forget_bias` starts b_f at one
    (Jozefowicz et al. 2015), as in Keras.
    """

    gates = 4

    def __init__(self, units, unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [units, units]

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        units, base = self.units, self.bias_initializer

        def initializer(shape, dtype=None):
            return ops.concatenate(
                [
                    base((units,), dtype=dtype),
                    ops.ones((units,), dtype=dtype),
                    base((2 * units,), dtype=dtype),
                ]
            )

        return initializer

    def step(self, projected, states, training=False):
        a_prev, c_prev = states[0], states[1]
        a_rec = self._dropped_state(a_prev, training)
        z = projected + ops.matmul(a_rec, self.recurrent_kernel)
        # One split, not four slices: the gradient of each slice is a full-width tensor.
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
        gate_i = self.recurrent_activation(z_i)
        gate_f = self.recurrent_activation(z_f)
        candidate = self.activation(z_c)
        gate_o = self.recurrent_activation(z_o)
        c = gate_f * c_prev + gate_i * candidate
        a = gate_o * self.activation(c)
        return a, [a, c]

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}
