"""python -m apps.sentiment train|evaluate|predict|export"""

import click

from apps.common import app as harness
from apps.common.pretrained import word_vectors

from . import config, data, evaluate, model, serving

load_word_vectors = word_vectors("embedding", "tokens")


def initialize(new_model, options, vocabularies, train):
    """A new run's start: --embeddings or --init-from into every recurrent branch, --ngram-init into the
    n-gram bag."""
    load_word_vectors(new_model, options, vocabularies)
    model.language_model_start(new_model, options, vocabularies)
    model.naive_bayes_start(new_model, options, vocabularies, train)


def check_options(options):
    """--init-from's language models must fit the encoder: checked before the run directory is written."""
    from apps.common.errors import UserError
    from apps.common.pretrained import check_language_model

    explicit = options.get("pretrain_epochs") != "auto" and options.get("pretrain_epochs")
    if explicit and (options.get("init_from") or options.get("embeddings")):
        raise UserError("--pretrain-epochs trains the language models the encoder starts from: give it without "
                        "--init-from and --embeddings")
    if explicit and not options["bidirectional"]:
        raise UserError("--pretrain-epochs starts both directions of a --bidirectional encoder; without it, "
                        "train one language model with lm-text and textgen, and give --init-from")
    if options.get("init_backward_from") and not (options.get("init_from") and options["bidirectional"]):
        raise UserError("--init-backward-from starts a bidirectional encoder's backward direction: it needs "
                        "--init-from (the forward language model) and --bidirectional")
    if options.get("init_from"):
        check_language_model(options)
    if options.get("init_backward_from"):
        check_language_model(options, "--init-backward-from", "init_backward_from")


APP = harness.App(
    name=config.APP, options=config.OPTIONS, vocabularies=("tokens",), monitor="val_accuracy", mode="max",
    read_training_data=data.read_training_data, build_vocabularies=data.build_vocabularies,
    make_encoders=data.make_encoders, make_datasets=data.make_datasets, build_model=model.build_run_model,
    write_saved_model=serving.write_run, initialize=initialize, check_options=check_options,
    pretrain=model.pretrain_language_models, branch_stopping=model.branch_stopping,
    branch_stopping_option="branch_patience",
)


def print_predictions(texts, outputs):
    for text, label, p in zip(texts, outputs["label"].numpy(), outputs["probability"].numpy()):
        click.echo(f"{label.decode()}\t{p:.4f}\t{text}")


@click.command("lm-text")
@config.LM_TEXT_OPTIONS.click
def lm_text(**given):
    """Write the training texts (the side train trains on, never the validation texts) and --unlabeled-file's,
    tokenised as the classifier reads them, for a word-level language model to start from (--init-from; with
    --reverse, read backwards, for --init-backward-from)."""
    options = config.LM_TEXT_OPTIONS.values(given)
    texts, tokens = data.write_language_model_text(options, options["output"], options["unlabeled_file"],
                                                   reverse=options["reverse"])
    encoder = " ".join(f"--{name.replace('_', '-')} {config.DEFAULTS[name]}" for name in ("cell", "units",
                                                                                       "embedding_dim"))
    click.echo(f"{texts:,} texts, {tokens:,} tokens written to {options['output']}\nnext: python -m apps.textgen "
               f"train --run-dir LM_RUN --train-file {options['output']} --mode text --level word --layers 1 "
               f"{encoder} --sampled-softmax 1024; then train --init-from LM_RUN")


cli = harness.app_group(
    APP, "Sentiment classification: many-to-one RNN of our cells over the tokens of a text.",
    harness.evaluate_command(
        APP, "Accuracy, precision, recall, F1, ROC AUC and the confusion matrix.", evaluate, config.EVALUATE_OPTIONS),
    harness.predict_command(APP, "Print label, probability and text for each TEXT.", serving.run_serve_fn,
                            "texts", print_predictions),
    lm_text,
    train_help="Train a model into RUN_DIR; run again to continue an interrupted run.",
)

