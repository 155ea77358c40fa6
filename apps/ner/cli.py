"""python -m apps.ner train|evaluate|predict|export"""

import json

import click

from apps.common import cli as common
from apps.common.rundir import RunDir, atomic_write_text

from . import config
from .data import check_tags, load_evaluation_data, load_training_data
from .metrics import conlleval, entities, format_report


@click.group(cls=common.AppGroup)
def cli():
    """Named-entity recognition: BiRNN of our cells with character features and a CRF."""


def _tagging_fn(model):
    """A compiled function: (inputs, gold) -> (tag ids [B, T] (0 at padding), gold)."""
    from apps.common.evaluation import compiled

    from .model import decode

    return compiled(lambda inputs, gold: (decode(model, model(inputs, training=False), inputs["words"]), gold))


def score_dataset(model, dataset, tag_names, tag=None):
    """conlleval scores of the model on batches of (inputs, gold ids with -1 padding).

    `tag`: a `_tagging_fn(model)` to reuse (an evaluation every epoch traces once).
    """
    from apps.common.evaluation import map_batches

    gold, predicted = [], []
    for ids, truth in map_batches(tag or _tagging_fn(model), dataset, description="tagging"):
        for row_ids, row_truth in zip(ids, truth):
            n = int((row_truth >= 0).sum())
            gold.append([tag_names[i] for i in row_truth[:n]])
            predicted.append([tag_names[i] for i in row_ids[:n]])
    return conlleval(gold, predicted)


def _entity_f1_callback(dataset, tag_names):
    import keras

    class EntityF1(keras.callbacks.Callback):
        """Adds the validation entity F1 (conlleval) to each epoch's logs as val_f1."""

        tag = None

        def on_epoch_end(self, epoch, logs=None):
            if logs is not None:
                self.tag = self.tag or _tagging_fn(self.model)
                logs["val_f1"] = score_dataset(self.model, dataset, tag_names, self.tag)["f1"]

    return EntityF1()


@cli.command()
@common.run_dir_option
@click.option("--train-file", type=click.Path(dir_okay=False), help="CoNLL column file.")
@click.option("--valid-file", type=click.Path(dir_okay=False), help="Default: carved from the training data.")
@click.option("--dataset", help="tensorflow-datasets name, used when no --train-file is given.")
@click.option("--valid-fraction", type=click.FloatRange(0, 1, min_open=True, max_open=True))
@click.option("--tag-column", type=int, help="0-based column of the tag; default: the last.")
@click.option("--token-prefix", help="Prefix to strip from every token, e.g. 'en:' for WikiANN.")
@click.option("--cell", type=click.Choice(["rnn", "gru", "lstm"]))
@click.option("--units", type=click.IntRange(min=1))
@click.option("--layers", type=click.IntRange(min=1))
@click.option("--word-dim", type=click.IntRange(min=1))
@click.option("--char-features/--no-char-features", default=None)
@click.option("--output", type=click.Choice(["crf", "softmax"]))
@click.option("--dropout", type=click.FloatRange(0, 1, max_open=True))
@click.option("--word-dropout", type=click.FloatRange(0, 1, max_open=True))
@click.option("--char-filters", type=click.IntRange(min=1))
@click.option("--reduce-lr-patience", type=click.IntRange(min=1),
              help="Halve the learning rate after N epochs without a better validation F1.")
@common.training_options
def train(run_dir, **given):
    """Train a tagger into RUN_DIR; run again to continue an interrupted run."""
    strategy = common.distribution(given)
    options = common.overrides(config.DEFAULTS, **given)
    run = RunDir(run_dir, config.APP)
    common.seed_everything(options["seed"])
    train_sentences, valid_sentences, scheme = load_training_data(options)

    from datasets.conll import build_vocabularies, make_dataset, make_lookups

    types = sorted({t[2:] for _, sentence_tags, _ in train_sentences for t in sentence_tags if t != "O"})
    tags = ["O"] + [f"{prefix}-{kind}" for kind in types for prefix in "BI"]
    tag_index = {t: i for i, t in enumerate(tags)}
    check_tags(valid_sentences, tag_index, options["valid_file"] or options["train_file"] or options["dataset"])
    resuming = run.start({**options, "tags": tags, "source_scheme": scheme, "scheme": "IOB2"}, config.RESUMABLE,
                         config.DEFAULTS)
    if resuming and run.vocabulary_path("words").exists():
        words, chars = run.read_vocabulary("words"), run.read_vocabulary("chars")
    else:
        words, chars = build_vocabularies(train_sentences)
        run.write_vocabulary("words", words)
        run.write_vocabulary("chars", chars)
    word_lookup, char_lookup = make_lookups(words, chars)
    click.echo(f"{len(train_sentences)} training and {len(valid_sentences)} validation sentences "
               f"({scheme} converted to IOB2); {len(words)} words, {len(chars)} characters, tags {tags}")
    batches = dict(tag_index=tag_index, word_lookup=word_lookup, char_lookup=char_lookup,
                   batch_size=options["batch_size"], max_chars=options["max_chars"], seed=options["seed"])
    train_ds = make_dataset(train_sentences, shuffle=True, **batches)
    valid_ds = make_dataset(valid_sentences, shuffle=False, **batches)

    from apps.common.training import fit

    from .model import build_model

    with strategy.scope():
        model = build_model(options, word_lookup.vocabulary_size(), char_lookup.vocabulary_size(), len(tags))
    fit(model, train_ds, valid_ds, run, epochs=options["epochs"], monitor="val_f1", mode="max",
        patience=options["patience"], extra_callbacks=[_entity_f1_callback(valid_ds, tags)],
        reduce_lr_patience=options["reduce_lr_patience"])
    click.echo(f"model written to {run.model_path}" if run.writer else "worker done: the chief writes the run")


def load_run(run_dir):
    """(options, model, word lookup, char lookup) of a trained run."""
    run = RunDir(run_dir, config.APP)
    options = run.trained_options()
    import keras

    import layers  # noqa: F401  registers our layers for deserialisation
    from datasets.conll import make_lookups

    model = keras.models.load_model(run.model_path, compile=False)
    word_lookup, char_lookup = make_lookups(run.read_vocabulary("words"), run.read_vocabulary("chars"))
    return options, model, word_lookup, char_lookup


@cli.command()
@common.run_dir_option
@click.option("--test-file", type=click.Path(dir_okay=False), help="CoNLL file, same columns as training.")
@click.option("--dataset", help="tensorflow-datasets name (default: the training run's).")
@click.option("--split", default="test", show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=128, show_default=True)
def evaluate(run_dir, test_file, dataset, split, batch_size):
    """Entity precision, recall and F1 (conlleval), per type, and token accuracy."""
    from datasets.conll import make_dataset

    options, model, word_lookup, char_lookup = load_run(run_dir)
    sentences = load_evaluation_data(options, test_file, dataset, split)
    tag_index = {t: i for i, t in enumerate(options["tags"])}
    check_tags(sentences, tag_index, test_file or f"tfds:{dataset or options['dataset']}")
    ds = make_dataset(sentences, tag_index, word_lookup, char_lookup, batch_size=batch_size,
                      max_chars=options["max_chars"], shuffle=False, seed=0)
    scores = score_dataset(model, ds, options["tags"])
    scores["data"] = test_file or f"tfds:{dataset or options['dataset']}/{split}"
    click.echo(format_report(scores))
    path = RunDir(run_dir, config.APP).evaluation_path
    atomic_write_text(path, json.dumps(scores, indent=2) + "\n")
    click.echo(f"\nwritten to {path}")


def character_spans(text, tokens):
    """(start, end) of each token in text, searching left to right; None if not found."""
    spans, position = [], 0
    for token in tokens:
        start = text.find(token, position)
        if start < 0:
            spans.append(None)
            continue
        spans.append((start, start + len(token)))
        position = start + len(token)
    return spans


def _tagger(run_dir):
    from .serving import make_taggers

    options, model, word_lookup, char_lookup = load_run(run_dir)
    return make_taggers(model, word_lookup, char_lookup, options["tags"], options["max_chars"])[0]


@cli.command()
@common.predict_options
def predict(texts, run_dir, saved_model, input_file):
    """Print each token with its tag, then the entities (type, text, start, end)."""
    import tensorflow as tf

    texts = common.read_inputs(texts, input_file)
    tag_sentences = common.predictor(run_dir, saved_model, _tagger)
    out = tag_sentences(sentences=tf.constant(texts))
    for text, row_tokens, row_tags, length in zip(texts, out["tokens"].numpy(), out["tags"].numpy(),
                                                  out["length"].numpy()):
        tokens = [t.decode("utf-8") for t in row_tokens[:length]]
        tags = [t.decode("utf-8") for t in row_tags[:length]]
        for token, tag in zip(tokens, tags):
            click.echo(f"{token}\t{tag}")
        spans = character_spans(text, tokens)
        click.echo("entities:")
        for kind, first, last in entities(tags):
            if spans[first] and spans[last - 1]:
                start, end = spans[first][0], spans[last - 1][1]
                click.echo(f"  {kind}\t{text[start:end]}\t{start}\t{end}")
            else:
                click.echo(f"  {kind}\t{' '.join(tokens[first:last])}\t-\t-")
        click.echo("")


@cli.command()
@common.run_dir_option
@common.export_options
def export(run_dir, export_base, version):
    """Write a SavedModel to EXPORT_BASE/ner/VERSION; prints that directory last."""
    click.echo(str(export_run(run_dir, export_base, version)))


def export_run(run_dir, export_base="saved_models", version=None):
    """Export a trained run as the next (or the given) version; returns its directory."""
    from apps.common.export import export_versioned

    from .serving import write_saved_model

    options, model, word_lookup, char_lookup = load_run(run_dir)
    return export_versioned(
        lambda path: write_saved_model(path, model, word_lookup, char_lookup, options["tags"],
                                       options["max_chars"]),
        export_base, config.APP, version,
    )
