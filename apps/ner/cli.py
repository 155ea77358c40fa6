"""python -m apps.ner train|evaluate|predict|export"""

import click

from apps.common import app as harness
from apps.common.pretrained import word_vectors

from . import config, data, evaluate, model, serving
from .documents import consistent_tags
from .metrics import entities

APP = harness.App(
    name=config.APP, options=config.OPTIONS, vocabularies=("words", "chars"), monitor="val_f1", mode="max",
    read_training_data=data.read_training_data, build_vocabularies=data.build_vocabularies,
    make_encoders=data.make_encoders, make_datasets=data.make_datasets, build_model=model.build_run_model,
    write_saved_model=serving.write_run, initialize=word_vectors("word_embedding", "words"),
    callbacks=lambda options, encoders, valid: [evaluate.entity_f1_callback(
        valid, options.tags, members=model.member_stopping(options) is not None)],
    branch_stopping=model.member_stopping, branch_stopping_option="member_patience",
    reduce_lr_option="reduce_lr_patience", check_options=config.check_options,
)


def print_predictions(texts, outputs, story=False):
    """Each token with its tag, then the entities (type, text, start, end) with character offsets; with `story`,
    the texts' tags made consistent as one story's first (`apps.ner.documents`)."""
    lengths = outputs["length"].numpy()
    tokens, tags = ([[t.decode("utf-8") for t in row[:n]] for row, n in zip(outputs[key].numpy(), lengths)]
                    for key in ("tokens", "tags"))
    if story:
        tags = consistent_tags(tokens, tags, [0] * len(tokens))
    for text, text_tokens, text_tags in zip(texts, tokens, tags):
        for token, tag in zip(text_tokens, text_tags):
            click.echo(f"{token}\t{tag}")
        spans = serving.character_spans(text, text_tokens)
        click.echo("entities:")
        for kind, first, last in entities(text_tags):
            if spans[first] and spans[last - 1]:
                start, end = spans[first][0], spans[last - 1][1]
                click.echo(f"  {kind}\t{text[start:end]}\t{start}\t{end}")
            else:
                click.echo(f"  {kind}\t{' '.join(text_tokens[first:last])}\t-\t-")
        click.echo("")


cli = harness.app_group(
    APP, "Named-entity recognition: BiRNN of our cells with character features and a CRF.",
    harness.evaluate_command(APP, "Entity precision, recall and F1 (conlleval), per type, and token accuracy.",
                             evaluate, config.EVALUATE_OPTIONS),
    harness.predict_command(APP, "Print each token with its tag, then the entities (type, text, start, end).",
                            serving.run_tagger, "sentences", print_predictions, config.PREDICT_OPTIONS),
    train_help="Train a tagger into RUN_DIR; run again to continue an interrupted run.",
)

