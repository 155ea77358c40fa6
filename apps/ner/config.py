"""Every option of the NER app: default, type, range and help, declared once."""

import click

from apps.common.options import (
    CountOr, Option, Options, adversarial_options, data_options, pretrained_options, streaming_options,
    training_options,
)

APP = "ner"
RATE = click.FloatRange(0, 1, max_open=True)


class RatesPerMember(click.ParamType):
    """A rate in [0, 1) for every member of an --ensemble, one rate per member, or a range spread over them.

    "0.5" -> 0.5; "0.5,0.7" -> [0.5, 0.7]; "0.5:0.7" -> "0.5:0.7" (a run's config records that form).
    """

    name = "P|P1,P2,...|LOW:HIGH"

    def convert(self, value, param, ctx):
        if isinstance(value, (float, list)):
            return value
        text = str(value)
        is_range = ":" in text
        try:
            rates = [float(part) for part in text.split(":" if is_range else ",")]
        except ValueError:
            rates = []
        if not rates or (is_range and len(rates) != 2) or not all(0.0 <= rate < 1.0 for rate in rates):
            self.fail(f"{value!r} is not a rate in [0, 1), comma-separated rates, or a range LOW:HIGH of them",
                      param, ctx)
        if is_range:
            return rates[0] if rates[0] == rates[1] else f"{rates[0]:g}:{rates[1]:g}"
        return rates[0] if len(rates) == 1 else rates


def member_rates(value, members):
    """The rate of each of `members` members: [members] floats from a RatesPerMember value.

    One rate is every member's; a list gives one per member; LOW:HIGH spreads
    evenly from the first member's LOW to the last one's HIGH (one member: LOW).
    """
    if isinstance(value, list):
        return list(value)
    if isinstance(value, str):
        low, high = (float(part) for part in value.split(":"))
        return [round(low + (high - low) * m / max(members - 1, 1), 6) for m in range(members)]
    return [value] * members


def check_options(options):
    """Per-member rates must be one per member: checked before the run directory is written."""
    from apps.common.errors import UserError

    rates = options["word_dropout"]
    if isinstance(rates, list) and len(rates) != options["ensemble"]:
        raise UserError(f"--word-dropout gives {len(rates)} rates for the {options['ensemble']} members of "
                        f"--ensemble: give one rate for all, one per member, or a range LOW:HIGH")


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
           "Taggers trained side by side in one model, each with its own weights, seed, word dropout "
           "(--word-dropout) and loss, decoded together from the mean of their scores (N times the work of one). "
           "1: a single tagger, about a third of the time.", legacy=1),
    Option("dropout", 0.5, RATE),
    Option("recurrent_dropout", 0.25, RATE,
           "Variational dropout of the recurrent state: one mask per sequence, on every layer (Gal & Ghahramani "
           "2016).", legacy=0.0),
    Option("word_dropout", "0.5:0.7", RatesPerMember(),
           "Share of words replaced by the unknown word in training: one rate for every member of the --ensemble, "
           "N comma-separated rates (one per member), or a range LOW:HIGH spread evenly over the members (the "
           "default gives three members 0.5, 0.6 and 0.7; one tagger 0.5), so that they differ by more than the seed."),
    Option("member_patience", "off", CountOr("off", "epochs"),
           "With an --ensemble, stop training each tagger once its own validation F1 (decoded alone) has not "
           "improved for N epochs, with its best epoch's weights back, while the others train on; the ensemble "
           "still decodes from every tagger's scores, and the run ends when all have stopped or at --patience. "
           "off: every tagger trains until the ensemble stops.", legacy="off", resumable=True),
    Option("lm_weight", 0.0, click.FloatRange(min=0),
           "Weight of an auxiliary language-modelling cost (Rei 2017): in training, each member's BiRNN also "
           "predicts the next word from its forward states and the previous word from its backward states. "
           "0: none.", legacy=0.0),
    Option("lm_words", 2000, click.IntRange(min=2),
           "Classes of the --lm-weight cost: the unknown word, the N-2 most frequent words, and one class for all the "
           "rarer ones."),
    Option("reduce_lr_patience", 2, click.IntRange(min=1),
           "Halve the learning rate after N epochs without a better validation F1."),
) + pretrained_options() + adversarial_options() + training_options(
    epochs=35, batch_size=32, learning_rate=2e-3, clipnorm=5.0, patience=5)

EVALUATE_OPTIONS = Options(
    Option("test_file", None, click.Path(dir_okay=False), "CoNLL file, same columns as training."),
    Option("dataset", None, None, "tensorflow-datasets name (default: the training run's)."),
    Option("split", "test"),
    Option("batch_size", 128, click.IntRange(min=1)),
    Option("stories", True, None,
           "In a test file with -DOCSTART- lines, make the predictions consistent within each story before "
           "scoring: every mention of a name takes the type most of its mentions have, and a capitalised name "
           "found elsewhere in the story is tagged where the tagger left it out (apps/ner/documents.py). "
           "Each sentence's own score is reported beside it.", flag=True),
)

PREDICT_OPTIONS = Options(
    Option("story", False, None,
           "The texts are the sentences of one story: make their tags consistent as `evaluate --stories` does.",
           flag=True),
)

DEFAULTS = OPTIONS.defaults
