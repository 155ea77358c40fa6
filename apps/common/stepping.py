"""One step at a time through a trained "embedding -> RNN layers -> logits" model: sampling loops."""

import keras
from keras import ops


class Stepper:
    """Runs a trained model one event at a time, carrying every layer's state."""

    def __init__(self, model):
        self.table = model.get_layer("embedding").embeddings
        self.cells = [layer.cell for layer in model.layers if isinstance(layer, keras.layers.RNN)]
        self.logits = model.get_layer("logits")

    def initial_states(self, batch):
        return [cell.get_initial_state(batch) for cell in self.cells]

    def step(self, ids, states):
        """ids [B] -> (logits [B, V], new states)."""
        x = ops.take(self.table, ids, axis=0)
        new_states = []
        for cell, state in zip(self.cells, states):
            x, state = cell(x, state, training=False)
            new_states.append(state)
        return self.logits(x), new_states
