"""Raw strings in, label and probability out: the function predict uses and export writes."""

import keras
import tensorflow as tf

from apps.common.serving import first_rows, nonempty_batch
from datasets.text_classification import token_ids

from .model import positive_probability


def make_serve_fn(model, vectorizer, label_names, max_length):
    """texts [None] tf.string -> {"probability": [None] float32, "label": [None] tf.string}."""
    names = tf.constant(label_names)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
    def serve(texts):
        texts, n = nonempty_batch(texts)
        ids = token_ids(vectorizer, texts, max_length).to_tensor()
        probability = positive_probability(model, ids)
        label = tf.gather(names, tf.cast(probability >= 0.5, tf.int32))
        return first_rows({"probability": probability, "label": label}, n)

    return serve


def write_saved_model(path, model, vectorizer, label_names, max_length):
    """A SavedModel whose serving_default needs no Python of ours."""
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.track(vectorizer)
    archive.add_endpoint("serving_default", make_serve_fn(model, vectorizer, label_names, max_length))
    archive.write_out(path, verbose=False)


def run_serve_fn(trained):
    """make_serve_fn of a TrainedRun."""
    from datasets.text_classification import display_names

    return make_serve_fn(trained.model, trained.encoders, display_names(trained.options.labels),
                         trained.options.max_length)


def write_run(path, trained):
    """write_saved_model of a TrainedRun."""
    from datasets.text_classification import display_names

    write_saved_model(path, trained.model, trained.encoders, display_names(trained.options.labels),
                      trained.options.max_length)
