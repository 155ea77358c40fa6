"""Every option of the sentiment app: default, type, range and help, declared once."""

import click

from apps.common.options import Option, Options, training_options

APP = "sentiment"
CELLS = click.Choice(["rnn", "gru", "lstm"])
FRACTION = click.FloatRange(0, 1, min_open=True, max_open=True)

OPTIONS = Options(
    # data
    Option("train_file", None, click.Path(dir_okay=False), "JSONL, CSV or TSV (optionally .gz)."),
    Option("valid_file", None, click.Path(dir_okay=False), "Default: carved from the training data."),
    Option("dataset", "imdb_reviews", None, "tensorflow-datasets name, used when no --train-file is given."),
    Option("valid_fraction", 0.1, FRACTION, "Share of the training data carved off for validation, with the seed."),
    Option("text_column", "text", None, "Header name or JSON key, or a 0-based number for files without a header."),
    Option("label_column", "label"),
    # model
    Option("cell", "gru", CELLS),
    Option("units", 128, click.IntRange(min=1)),
    Option("layers", 1, click.IntRange(min=1)),
    Option("bidirectional", True, None, flag=True),
    Option("embedding_dim", 128, click.IntRange(min=1)),
    Option("dropout", 0.3, click.FloatRange(0, 1, max_open=True)),
    Option("max_tokens", 30000, click.IntRange(min=3), "Vocabulary size, padding and OOV included."),
    Option("max_length", 400, click.IntRange(min=1), "Tokens kept from the start of each text."),
) + training_options(epochs=8, batch_size=64, learning_rate=1e-3, clipnorm=1.0, patience=2)

EVALUATE_OPTIONS = Options(
    Option("test_file", None, click.Path(dir_okay=False), "Labelled file, same format as training."),
    Option("dataset", None, None, "tensorflow-datasets name (default: the training run's)."),
    Option("split", "test", None, "tfds split, when no --test-file is given."),
    Option("batch_size", 256, click.IntRange(min=1)),
)

DEFAULTS = OPTIONS.defaults
