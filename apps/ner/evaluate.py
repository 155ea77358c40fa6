"""Scores of a trained tagger: pure functions, no printing."""

from apps.common.evaluation import compiled, map_batches

from .documents import consistent_tags, stories_of
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
    gold, predicted, alone = tag_dataset(model, dataset, tag_names, tag, members)
    return _scores(gold, predicted, alone)


def tag_dataset(model, dataset, tag_names, tag=None, members=False):
    """(gold, predicted, each member's own predictions): tag names per sentence, in the dataset's order; the
    last is [] unless `members` and the model is an ensemble."""
    from .model import ensemble_size

    members = members and ensemble_size(model) > 1
    gold, predicted, alone = [], [], [[] for _ in range(ensemble_size(model) if members else 0)]
    for ids, *member_ids, truth in map_batches(tag or tagging_fn(model, members), dataset, description="tagging"):
        lengths = (truth >= 0).sum(axis=1)
        gold += _names(truth, lengths, tag_names)
        predicted += _names(ids, lengths, tag_names)
        for m, batch in enumerate(member_ids[0] if member_ids else []):  # [M, B, T]
            alone[m] += _names(batch, lengths, tag_names)
    return gold, predicted, alone


def _scores(gold, predicted, alone):
    scores = conlleval(gold, predicted)
    if alone:
        scores["members"] = [{k: v for k, v in conlleval(gold, tags).items() if k in ("precision", "recall", "f1")}
                             for tags in alone]
    return scores


def _names(ids, lengths, tag_names):
    """Tag names of each row's first `lengths[b]` ids: ids [B, T] -> B lists."""
    return [[tag_names[i] for i in row[:n]] for row, n in zip(ids, lengths)]


def entity_f1_callback(dataset, tag_names, members=False):
    """A Keras callback adding the validation entity F1 (conlleval) to each epoch's logs as val_f1; with
    `members`, also each tagger's of an ensemble, decoded alone, as `member_f1_name(m)`."""
    import keras

    from .model import member_f1_name

    class EntityF1(keras.callbacks.Callback):
        tag = None

        def on_epoch_end(self, epoch, logs=None):
            if logs is not None:
                self.tag = self.tag or tagging_fn(self.model, members)
                scores = score_dataset(self.model, dataset, tag_names, self.tag, members)
                logs["val_f1"] = scores["f1"]
                for m, member in enumerate(scores.get("members", ())):
                    logs[member_f1_name(m)] = member["f1"]

    return EntityF1()


def evaluate_run(trained, test_file=None, dataset=None, split="test", batch_size=128, stories=True):
    """conlleval scores of a TrainedRun on a CoNLL file or a tfds split, with the data it names.

    With `stories` and a file in memory that has -DOCSTART- lines, the predictions are made consistent within
    each story first (`apps.ner.documents`); "each_sentence_alone" then holds the scores without that step.
    """
    from .data import check_tags, load_evaluation_data, make_dataset

    options = trained.options
    source = test_file or f"tfds:{dataset or options.dataset}"
    name = test_file or f"{source}/{split}"
    if options.get("pipeline") == "stream":  # read as it streams: a test file or tfds split of any size
        from .data import streamed_evaluation_dataset

        ds = streamed_evaluation_dataset(options, trained.encoders, test_file, batch_size, dataset, split)
        return {**score_dataset(trained.model, ds, options.tags, members=True), "data": name}
    sentences = load_evaluation_data(options, test_file, dataset, split)
    check_tags(sentences, {t: i for i, t in enumerate(options.tags)}, source)
    story = stories_of(test_file, sentences) if stories and test_file else None
    if story is None:
        ds = make_dataset(options, trained.encoders, sentences, batch_size=batch_size)
        return {**score_dataset(trained.model, ds, options.tags, members=True), "data": name}
    gold, predicted, alone = tag_in_order(trained, sentences, batch_size)
    consistent = consistent_tags([tokens for tokens, _, _ in sentences], predicted, story)
    return {**_scores(gold, consistent, alone), "stories": len(set(story)), "each_sentence_alone": conlleval(
        gold, predicted), "data": name}


def tag_in_order(trained, sentences, batch_size=128):
    """(gold, predicted, each member's own predictions) as `tag_dataset` gives them, in the order of `sentences`
    (tagged in batches of similar lengths, then put back in order)."""
    from .data import make_dataset

    order = sorted(range(len(sentences)), key=lambda i: len(sentences[i][0]))  # little padding, a known order
    ds = make_dataset(trained.options, trained.encoders, [sentences[i] for i in order], batch_size=batch_size,
                      in_order=True)
    gold, predicted, alone = tag_dataset(trained.model, ds, trained.options.tags, members=True)
    position = {sentence: k for k, sentence in enumerate(order)}
    back = lambda rows: [rows[position[i]] for i in range(len(sentences))]  # noqa: E731
    return back(gold), back(predicted), [back(member) for member in alone]


def report(scores):
    """conlleval's text, then what the stories changed, then each member's own F1 for an ensemble."""
    text = format_report(scores)
    if "stories" in scores:
        text += (f"\nmade consistent within each of {scores['stories']} stories (--stories); each sentence alone: "
                 f"FB1 {100 * scores['each_sentence_alone']['f1']:.2f}")
    if scores.get("members"):
        alone = ", ".join(f"{100 * member['f1']:.2f}" for member in scores["members"])
        text += f"\nensemble of {len(scores['members'])}; each member alone: FB1 {alone}"
    return text
