"""Every option of the NER app: default, type, range and help, declared once."""

import click

from apps.common.options import (
    Option, Options, data_options, pretrained_options, streaming_options, training_options,
)

APP = "ner"
RATE = click.FloatRange(0, 1, max_open=True)


class RatesPerMember(click.ParamType):
    """A rate in [0, 1), or comma-separated rates, one per member of an --ensemble.

    "0.5" -> 0.5, "0.5,0.7" -> [0.5, 0.7] (a run's config records either).
    """

    name = "P[,P...]"

    def convert(self, value, param, ctx):
        if isinstance(value, (float, list)):
            return value
        try:
            rates = [float(part) for part in str(value).split(",")]
        except ValueError:
            rates = [-1.0]
        if not all(0.0 <= rate < 1.0 for rate in rates):
            self.fail(f"{value!r} is not a rate in [0, 1) or a comma-separated list of them", param, ctx)
        return rates[0] if len(rates) == 1 else rates


def member_rate(rates, member):
    """Member `member`'s rate from a RatesPerMember value (one rate for all, or a list, one per member)."""
    return rates[member] if isinstance(rates, list) else rates


def check_options(options):
    """Per-member rates must be one per member: checked before the run directory is written."""
    from apps.common.errors import UserError

    rates = options["word_dropout"]
    if isinstance(rates, list) and len(rates) != options["ensemble"]:
        raise UserError(f"--word-dropout gives {len(rates)} rates for the {options['ensemble']} members of "
                        f"--ensemble: give one rate for all, or one per member")

OPTIONS = data_options(train_help="CoNLL column file.", dataset="conll2003",
                       dataset_help="tensorflow-datasets name, used when no --train-file is given.",
                       valid_fraction=0.1, examples="sentences") + streaming_options("sentences") + Options(
    # data
    Option("tag_column", -1, int, "0-based column of the tag; -1: the last."),
    Option("token_prefix", "", None, "Prefix to strip from every token, e.g. 'en:' for WikiANN."),
    Option("max_chars", 20, click.IntRange(min=1), "Characters per word seen by the character CNN."),
    # model
    Option("cell", "lstm", click.Choice(["rnn", "gru", "lstm"])),
    Option("units", 200, click.IntRange(min=1)),
    Option("layers", 1, click.IntRange(min=1)),
    Option("word_dim", 100, click.IntRange(min=1)),
    Option("char_features", True, None, "Character CNN features of each word.", flag=True),
    Option("char_dim", 30, click.IntRange(min=1)),
    Option("char_filters", 100, click.IntRange(min=1)),
    Option("output", "crf", click.Choice(["crf", "softmax"])),
    Option("ensemble", 3, click.IntRange(min=1),
           "Taggers trained side by side in one model, each with its own weights, seed and loss, decoded "
           "together from the mean of their scores (an ensemble of seeds; N times the work of one). 1: a single "
           "tagger, about a third of the time.", legacy=1),
    Option("dropout", 0.5, RATE),
    Option("recurrent_dropout", 0.25, RATE,
           "Variational dropout of the recurrent state: one mask per sequence, on every layer (Gal & Ghahramani "
           "2016).", legacy=0.0),
    Option("word_dropout", 0.5, RatesPerMember(),
           "Share of words replaced by the unknown word in training; with --ensemble N, one rate for every member "
           "or N comma-separated rates, one per member (e.g. 0.5,0.6,0.7: members that differ by more than the seed)."),
    Option("reduce_lr_patience", 2, click.IntRange(min=1),
           "Halve the learning rate after N epochs without a better validation F1."),
) + pretrained_options() + training_options(epochs=35, batch_size=32, learning_rate=2e-3, clipnorm=5.0, patience=5)

EVALUATE_OPTIONS = Options(
    Option("test_file", None, click.Path(dir_okay=False), "CoNLL file, same columns as training."),
    Option("dataset", None, None, "tensorflow-datasets name (default: the training run's)."),
    Option("split", "test"),
    Option("batch_size", 128, click.IntRange(min=1)),
)

DEFAULTS = OPTIONS.defaults
