"""`layers.RNN`: `keras.layers.RNN` with the input projection taken out of the loop.

A recurrent step computes x<t> W + a<t-1> U + b. The first term does not
depend on the state, so for our cells this layer computes it for all time
steps at once, [B, T, D] x [D, G*U], one large matmul (and one large matmul
for its gradient) instead of T small ones inside the loop; the loop is left
with a<t-1> U and the gates. Same arguments, masks, dropout, states, saving
and export as `keras.layers.RNN`; any other cell (Keras' own, a
`StackedRNNCells`) runs the ordinary loop.
"""

import keras
from keras import ops

from .cells import PACKAGE, _RecurrentCell

from .keras_internals import time_major_rnn  # the loop keras.layers.RNN itself runs, over time-major inputs


@keras.saving.register_keras_serializable(package=PACKAGE)
class RNN(keras.layers.RNN):
    """Drop-in `keras.layers.RNN`; faster for `MyRNNCell`, `GRUCell` and `LSTMCell`.

    sequences [B, T, D] -> [B, T, U] with `return_sequences`, else [B, U]
    (plus the final states with `return_state`).
    """

    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell = self.cell
        if not isinstance(cell, _RecurrentCell):
            return super().inner_loop(sequences, initial_state, mask, training=training)
        # Time-major before the projection: transposing [B, T, D] is cheaper than [B, T, G*U].
        projected = cell.project_inputs(ops.transpose(sequences, (1, 0, 2)), training=training,
                                        time_major=True)
        if mask is not None:
            mask = ops.transpose(mask, (1, 0))

        def step(projected_t, states):
            return cell.step(projected_t, states, training=training)

        if not isinstance(initial_state, (list, tuple)):
            initial_state = [initial_state]
        last_output, outputs, states = time_major_rnn(
            step,
            projected,
            initial_state,
            go_backwards=self.go_backwards,
            mask=mask,
            unroll=self.unroll,
            zero_output_for_mask=self.zero_output_for_mask,
            return_all_outputs=self.return_sequences,
        )
        return last_output, ops.transpose(outputs, (1, 0, 2)), states
