"""Scores of a trained tagger: pure functions, no printing."""

from apps.common.evaluation import compiled, map_batches

from .metrics import conlleval, format_report


def tagging_fn(model):
    """A compiled function: (inputs, gold) -> (tag ids [B, T] (0 at padding), gold)."""
    from .model import decode

    return compiled(lambda inputs, gold: (decode(model, model(inputs, training=False), inputs["words"]), gold))


def score_dataset(model, dataset, tag_names, tag=None):
    """conlleval scores of the model on batches of (inputs, gold ids with -1 padding).

    `tag`: a `tagging_fn(model)` to reuse (an evaluation every epoch traces once).
    """
    gold, predicted = [], []
    for ids, truth in map_batches(tag or tagging_fn(model), dataset, description="tagging"):
        for row_ids, row_truth in zip(ids, truth):
            n = int((row_truth >= 0).sum())
            gold.append([tag_names[i] for i in row_truth[:n]])
            predicted.append([tag_names[i] for i in row_ids[:n]])
    return conlleval(gold, predicted)


def entity_f1_callback(dataset, tag_names):
    """A Keras callback adding the validation entity F1 (conlleval) to each epoch's logs as val_f1."""
    import keras

    class EntityF1(keras.callbacks.Callback):
        tag = None

        def on_epoch_end(self, epoch, logs=None):
            if logs is not None:
                self.tag = self.tag or tagging_fn(self.model)
                logs["val_f1"] = score_dataset(self.model, dataset, tag_names, self.tag)["f1"]

    return EntityF1()


def evaluate_run(trained, test_file=None, dataset=None, split="test", batch_size=128):
    """conlleval scores of a TrainedRun on a CoNLL file or a tfds split, with the data it names."""
    from .data import check_tags, load_evaluation_data, make_dataset

    options = trained.options
    if options.get("pipeline") == "stream":  # read as it streams: a test file or tfds split of any size
        from .data import streamed_evaluation_dataset

        ds = streamed_evaluation_dataset(options, trained.encoders, test_file, batch_size, dataset, split)
    else:
        sentences = load_evaluation_data(options, test_file, dataset, split)
        check_tags(sentences, {t: i for i, t in enumerate(options.tags)},
                   test_file or f"tfds:{dataset or options.dataset}")
        ds = make_dataset(options, trained.encoders, sentences, batch_size=batch_size)
    return {**score_dataset(trained.model, ds, options.tags),
            "data": test_file or f"tfds:{dataset or options.dataset}/{split}"}


report = format_report
