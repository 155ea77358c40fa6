"""Scores of a trained tagger: pure functions, no printing."""

from apps.common.evaluation import compiled, map_batches

from .metrics import conlleval, format_report


def tagging_fn(model, members=False):
    """A compiled function: (inputs, gold) -> (tag ids [B, T] (0 at padding), gold); with `members`, (tag ids,
    each member's own tag ids [M, B, T], gold) of an ensemble."""
    from .model import decode, decode_members

    def tag(inputs, gold):
        scores = model(inputs, training=False)
        ids = decode(model, scores, inputs["words"])
        return (ids, decode_members(model, scores, inputs["words"]), gold) if members else (ids, gold)

    return compiled(tag)


def score_dataset(model, dataset, tag_names, tag=None, members=False):
    """conlleval scores of the model on batches of (inputs, gold ids with -1 padding).

    `tag`: a `tagging_fn(model)` to reuse (an evaluation every epoch traces once).
    `members`: with an ensemble, add "members": each member's own overall scores.
    """
    from .model import ensemble_size

    members = members and ensemble_size(model) > 1
    gold, predicted, alone = [], [], [[] for _ in range(ensemble_size(model) if members else 0)]
    for ids, *member_ids, truth in map_batches(tag or tagging_fn(model, members), dataset, description="tagging"):
        lengths = (truth >= 0).sum(axis=1)
        gold += _names(truth, lengths, tag_names)
        predicted += _names(ids, lengths, tag_names)
        for m, batch in enumerate(member_ids[0] if member_ids else []):  # [M, B, T]
            alone[m] += _names(batch, lengths, tag_names)
    scores = conlleval(gold, predicted)
    if members:
        scores["members"] = [{k: v for k, v in conlleval(gold, tags).items() if k in ("precision", "recall", "f1")}
                             for tags in alone]
    return scores


def _names(ids, lengths, tag_names):
    """Tag names of each row's first `lengths[b]` ids: ids [B, T] -> B lists."""
    return [[tag_names[i] for i in row[:n]] for row, n in zip(ids, lengths)]


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
    return {**score_dataset(trained.model, ds, options.tags, members=True),
            "data": test_file or f"tfds:{dataset or options.dataset}/{split}"}


def report(scores):
    """conlleval's text, then each member's own F1 for an ensemble."""
    text = format_report(scores)
    if scores.get("members"):
        alone = ", ".join(f"{100 * member['f1']:.2f}" for member in scores["members"])
        text += f"\nensemble of {len(scores['members'])}; each member alone: FB1 {alone}"
    return text
