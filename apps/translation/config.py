"""Every option of the translation app: default, type, range and help, declared once."""

import click

from apps.common.options import Option, Options, data_options, streaming_options, training_options

APP = "translation"
BEAM = Options(
    Option("beam_size", 1, click.IntRange(min=1), "Hypotheses kept by the beam search; 1 is greedy decoding."),
    Option("length_penalty", 1.0, float, "Beam search ranks by log-probability / length^A."),
)

OPTIONS = data_options(train_help="Tab-separated sentence pairs.", dataset="dates",
                       dataset_help="'dates' (generated offline) or a tensorflow-datasets translation set.",
                       valid_fraction=0.05, examples="pairs") + streaming_options("pairs") + Options(
    # data
    Option("valid_split", "by-source", click.Choice(["by-source", "random"]),
           "How validation pairs are carved from the training file: by-source puts all pairs of one source "
           "sentence on the same side, so no validation source is seen in training; random (runs before "
           "2026-11) carves pairs, and a source with several translations can be on both sides.",
           legacy="random"),
    Option("source_column", 0, click.IntRange(min=0)),
    Option("target_column", 1, click.IntRange(min=0)),
    Option("train_size", 50000, click.IntRange(min=10), "How many dates to generate."),
    Option("level", None, click.Choice(["char", "word"]), "Tokens: default char for dates, else word."),
    Option("target_case", "keep", click.Choice(["keep", "lower"]),
           "keep: the model writes capitals itself, as references have them; sources are always lower-cased."),
    Option("max_tokens", 20000, click.IntRange(min=5), "Vocabulary size per side."),
    Option("max_length", 40, click.IntRange(min=2), "Tokens per sentence."),
    # model
    Option("cell", "gru", click.Choice(["rnn", "gru", "lstm"])),
    Option("units", 128, click.IntRange(min=1)),
    Option("embedding_dim", 64, click.IntRange(min=1)),
    Option("attention", "additive", click.Choice(["additive", "multiplicative"])),
    # The softmax dominates the cost with a large target vocabulary: a smaller vector is much faster.
    Option("output_dim", None, click.IntRange(min=1),
           "Attentional vector before the softmax (default 2 x units); smaller trains faster."),
    Option("dropout", 0.1, click.FloatRange(0, 1, max_open=True)),
) + training_options(epochs=10, batch_size=64, learning_rate=2e-3, clipnorm=1.0, patience=3)

EVALUATE_OPTIONS = Options(
    Option("test_file", None, click.Path(dir_okay=False), "Tab-separated pairs."),
    Option("dataset", None, None, "'dates' (new generated dates) or a tensorflow-datasets set (its test split)."),
    Option("size", 10000, click.IntRange(min=1), "How many dates to generate."),
    Option("validation", False, None,
           "The run's validation pairs (from --valid-file, or carved from the training file at training).",
           flag=True),
) + BEAM

EXPORT_OPTIONS = Options(
    Option("beam_size", 4, click.IntRange(min=1),
           "Hypotheses of the beam_search signature; 1 exports serving_default (greedy) only."),
    BEAM.by_name["length_penalty"],
)

DEFAULTS = OPTIONS.defaults
