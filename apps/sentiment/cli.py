"""python -m apps.sentiment train|evaluate|predict|export"""

import json

import click

from apps.common import cli as common
from apps.common.rundir import RunDir, atomic_write_text

from . import config
from .data import load_evaluation_data, load_training_data


@click.group(cls=common.AppGroup)
def cli():
    """Sentiment classification: many-to-one RNN of our cells over the tokens of a text."""


@cli.command()
@common.run_dir_option
@click.option("--train-file", type=click.Path(dir_okay=False), help="JSONL, CSV or TSV (optionally .gz).")
@click.option("--valid-file", type=click.Path(dir_okay=False), help="Default: carved from the training data.")
@click.option("--dataset", help="tensorflow-datasets name, used when no --train-file is given.")
@click.option("--valid-fraction", type=click.FloatRange(0, 1, min_open=True, max_open=True))
@click.option("--text-column", help="Header name or JSON key, or a 0-based number for files without a header.")
@click.option("--label-column")
@click.option("--cell", type=click.Choice(["rnn", "gru", "lstm"]))
@click.option("--units", type=click.IntRange(min=1))
@click.option("--layers", type=click.IntRange(min=1))
@click.option("--bidirectional/--no-bidirectional", default=None)
@click.option("--embedding-dim", type=click.IntRange(min=1))
@click.option("--dropout", type=click.FloatRange(0, 1, max_open=True))
@click.option("--max-tokens", type=click.IntRange(min=3), help="Vocabulary size.")
@click.option("--max-length", type=click.IntRange(min=1), help="Tokens kept per text.")
@common.training_options
def train(run_dir, **given):
    """Train a model into RUN_DIR; run again to continue an interrupted run."""
    strategy = common.distribution(given)
    options = common.overrides(config.DEFAULTS, **given)
    run = RunDir(run_dir, config.APP)
    common.seed_everything(options["seed"])
    (train_texts, train_labels), (valid_texts, valid_labels), labels = load_training_data(options)
    resuming = run.start({**options, "labels": labels}, config.RESUMABLE, config.DEFAULTS)

    from datasets.text_classification import make_dataset, make_vectorizer

    from .model import build_model

    if resuming and run.vocabulary_path("tokens").exists():
        vectorizer = make_vectorizer(options["max_tokens"], run.read_vocabulary("tokens"))
    else:
        vectorizer = make_vectorizer(options["max_tokens"])
        vectorizer.adapt(train_texts, batch_size=1024)
        run.write_vocabulary("tokens", vectorizer.get_vocabulary())
    click.echo(f"{len(train_texts)} training and {len(valid_texts)} validation texts; "
               f"vocabulary {vectorizer.vocabulary_size()}; labels {labels}")
    batches = dict(vectorizer=vectorizer, batch_size=options["batch_size"], max_length=options["max_length"],
                   seed=options["seed"])
    train_ds = make_dataset(train_texts, train_labels, shuffle=True, **batches)
    valid_ds = make_dataset(valid_texts, valid_labels, shuffle=False, **batches)
    with strategy.scope():
        model = build_model(options, vectorizer.vocabulary_size())
    from apps.common.training import fit

    fit(model, train_ds, valid_ds, run, epochs=options["epochs"], monitor="val_accuracy", mode="max",
        patience=options["patience"])
    click.echo(f"model written to {run.model_path}" if run.writer else "worker done: the chief writes the run")


def load_run(run_dir):
    """(options, model, vectorizer, label display names) of a trained run."""
    run = RunDir(run_dir, config.APP)
    options = run.trained_options()
    import keras

    import layers  # noqa: F401  registers our cells for deserialisation
    from datasets.text_classification import display_names, make_vectorizer

    model = keras.models.load_model(run.model_path, compile=False)  # safe_mode stays on
    vectorizer = make_vectorizer(options["max_tokens"], run.read_vocabulary("tokens"))
    return options, model, vectorizer, display_names(options["labels"])


@cli.command()
@common.run_dir_option
@click.option("--test-file", type=click.Path(dir_okay=False), help="Labelled file, same format as training.")
@click.option("--dataset", help="tensorflow-datasets name (default: the training run's).")
@click.option("--split", default="test", show_default=True, help="tfds split, when no --test-file is given.")
@click.option("--batch-size", type=click.IntRange(min=1), default=256, show_default=True)
def evaluate(run_dir, test_file, dataset, split, batch_size):
    """Accuracy, precision, recall, F1, ROC AUC and the confusion matrix."""
    from datasets.text_classification import make_dataset

    from .evaluate import classification_report

    options, model, vectorizer, names = load_run(run_dir)
    texts, labels = load_evaluation_data(options, options["labels"], test_file, dataset, split)
    ds = make_dataset(texts, labels, vectorizer, batch_size=batch_size, max_length=options["max_length"],
                      shuffle=False, seed=0)
    result = {**classification_report(model, ds, names),
              "data": test_file or f"tfds:{dataset or options['dataset']}/{split}"}
    common.print_table([(k, "-" if result[k] is None else f"{result[k]:.4f}")
                        for k in ("accuracy", "precision", "recall", "f1", "roc_auc")], ["metric", "value"])
    matrix = result["confusion_matrix"]["rows_true_columns_predicted"]
    click.echo("\nconfusion matrix (rows: true, columns: predicted)")
    common.print_table([[names[i], *map(str, matrix[i])] for i in range(2)], ["", *names])
    path = RunDir(run_dir, config.APP).evaluation_path
    atomic_write_text(path, json.dumps(result, indent=2) + "\n")
    click.echo(f"\nwritten to {path}")


def _serve_fn(run_dir):
    from .serving import make_serve_fn

    options, model, vectorizer, names = load_run(run_dir)
    return make_serve_fn(model, vectorizer, names, options["max_length"])


@cli.command()
@common.predict_options
def predict(texts, run_dir, saved_model, input_file):
    """Print label, probability and text for each TEXT."""
    import tensorflow as tf

    texts = common.read_inputs(texts, input_file)
    serve = common.predictor(run_dir, saved_model, _serve_fn)
    out = serve(texts=tf.constant(texts))
    for text, label, p in zip(texts, out["label"].numpy(), out["probability"].numpy()):
        click.echo(f"{label.decode()}\t{p:.4f}\t{text}")


@cli.command()
@common.run_dir_option
@common.export_options
def export(run_dir, export_base, version):
    """Write a SavedModel to EXPORT_BASE/sentiment/VERSION; prints that directory last."""
    click.echo(str(export_run(run_dir, export_base, version)))


def export_run(run_dir, export_base="saved_models", version=None):
    """Export a trained run as the next (or the given) version; returns its directory."""
    from apps.common.export import export_versioned

    from .serving import write_saved_model

    options, model, vectorizer, names = load_run(run_dir)
    return export_versioned(
        lambda path: write_saved_model(path, model, vectorizer, names, options["max_length"]),
        export_base, config.APP, version,
    )
