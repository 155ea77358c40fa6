"""Note generation by sampling an RNN of our cells; and the polyphonic benchmark."""
