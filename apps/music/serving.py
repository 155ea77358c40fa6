"""Exported signatures: next-event probabilities, and generation with the sampling loop in the graph."""

import keras
import tensorflow as tf

from apps.common.serving import first_rows, nonempty_batch

from apps.common.stepping import Stepper

MAX_GENERATED = 10000  # events per generate call: a bound on the time and memory one request can take


def make_next_event_fn(model):
    """serving_default: events [B, T] -> {"probabilities": [B, V]} of the next event."""
    vocabulary_size = model.output_shape[-1]

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, name="events")])
    def next_event(events):
        """events [B, T] (0 padding after the end) -> {"probabilities": [B, V]} for the next event.

        Ids outside the vocabulary count as padding.
        """
        events, n = nonempty_batch(events)
        events = tf.where(tf.logical_and(events > 0, events < vocabulary_size), events, 0)
        events = tf.pad(events, [[0, 0], [0, tf.maximum(1 - tf.shape(events)[1], 0)]])
        logits = model(events, training=False)
        last = tf.maximum(tf.reduce_sum(tf.cast(events > 0, tf.int32), axis=1) - 1, 0)
        return first_rows({"probabilities": tf.nn.softmax(tf.gather(logits, last, batch_dims=1))}, n)

    return next_event


def make_generate_fn(model, start_id, unknown_id=-1):
    """generate: (primer, length, temperature, seed) -> {"events": [length]}, the sampling loop in the graph."""
    stepper = Stepper(model)
    vocabulary_size = model.output_shape[-1]

    def step_one(ids, states):
        # One tune at a time: keep the static batch size of 1 that while_loop needs.
        new_logits, new_states = stepper.step(ids, states)
        return (tf.reshape(new_logits, [1, vocabulary_size]),
                tf.nest.map_structure(lambda new, old: tf.reshape(new, old.shape), new_states, states))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.int32, name="primer"),
                                  tf.TensorSpec([], tf.int32, name="length"),
                                  tf.TensorSpec([], tf.float32, name="temperature"),
                                  tf.TensorSpec([], tf.int32, name="seed")])
    def generate(primer, length, temperature, seed):
        """primer ids (without the start id) -> {"events": [length]} sampled ids.

        Forgiving, as a server must be: primer ids outside the vocabulary are
        dropped, length is clipped to [0, MAX_GENERATED], and a temperature
        that is not a positive number means 1.
        """
        primer = tf.boolean_mask(primer, tf.logical_and(primer > 0, primer < vocabulary_size))
        primer = tf.concat([[start_id], primer], axis=0)
        length = tf.clip_by_value(length, 0, MAX_GENERATED)
        temperature = tf.where(tf.logical_and(tf.math.is_finite(temperature), temperature > 0), temperature, 1.0)
        states = stepper.initial_states(1)
        logits = tf.zeros([1, vocabulary_size])
        for_primer = tf.range(tf.shape(primer)[0])

        def feed(i, logits, states):
            logits, states = step_one(primer[i:i + 1], states)
            return i + 1, logits, states

        _, logits, states = tf.while_loop(lambda i, *_: i < tf.shape(for_primer)[0], feed, (0, logits, states))
        out = tf.TensorArray(tf.int32, size=length)
        # Never padding, start or [UNK] (-1, a run without [UNK]: a row of zeros).
        never = tf.one_hot([0, start_id, unknown_id], tf.shape(logits)[-1], on_value=-1e9, off_value=0.0)

        def draw(t, logits, states, out):
            scaled = logits / tf.maximum(temperature, 1e-6) + tf.reduce_sum(never, axis=0)
            choice = tf.cast(tf.random.stateless_categorical(scaled, 1, seed=tf.stack([seed, t]))[:, 0], tf.int32)
            logits, states = step_one(choice, states)
            return t + 1, logits, states, out.write(t, choice[0])

        _, _, _, out = tf.while_loop(lambda t, *_: t < length, draw, (0, logits, states, out))
        return {"events": out.stack()}

    return generate


def write_saved_model(path, model, start_id, unknown_id=-1):
    """A SavedModel with serving_default (next-event probabilities) and generate (never padding, start, [UNK])."""
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serving_default", make_next_event_fn(model))
    archive.add_endpoint("generate", make_generate_fn(model, start_id, unknown_id))
    archive.write_out(path, verbose=False)


def write_run(path, trained):
    """write_saved_model of a TrainedRun."""
    from .data import START, UNKNOWN

    write_saved_model(path, trained.model, trained.encoders[START], trained.encoders.get(UNKNOWN, -1))
