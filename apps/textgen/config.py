"""Every option of the text-generation app: default, type, range and help, declared once."""

import click

from apps.common.options import Option, Options, recurrent_options, streaming_options, training_options

APP = "textgen"
POSITIVE = click.FloatRange(min=0, min_open=True)

OPTIONS = Options(
    # data
    Option("corpus", "first-names", click.Choice(["first-names", "surnames"]),
           "US Census names shipped by the `names` package, used when no --train-file is given."),
    Option("train_file", None, click.Path(dir_okay=False), "One example per line (or running text with "
           "--mode text); UTF-8, gzip accepted."),
    Option("valid_file", None, click.Path(dir_okay=False), "Default: carved from the training data."),
    Option("valid_fraction", 0.1, click.FloatRange(0, 1, min_open=True, max_open=True),
           "Share of the examples (of the text, in --mode text) held out for validation, with the seed."),
    Option("lowercase", False, None, "Lower-case everything (characters are kept as they are otherwise).",
           flag=True),
    Option("mode", "lines", click.Choice(["lines", "text"]),
           "lines: one example per line, each ended by the end mark; text: one stream, trained on windows."),
    Option("level", "char", click.Choice(["char", "word"]), "Tokens: characters, or words (for --mode text)."),
    Option("max_tokens", 20000, click.IntRange(min=4), "Vocabulary size at word level, specials included."),
    Option("max_length", 64, click.IntRange(min=1), "Tokens kept per example (--mode lines)."),
    Option("window", 100, click.IntRange(min=2), "Tokens per training window (--mode text)."),
    Option("clipvalue", None, POSITIVE, "Clip each gradient element to [-C, C] instead of clipping the norm."),
    Option("reduce_lr_patience", None, click.IntRange(min=1),
           "Halve the learning rate after N epochs without a better validation loss (default: never)."),
    Option("recurrent_dropout", 0.0, click.FloatRange(0, 1, max_open=True),
           "Dropout on each cell's state, one mask per sequence (variational), in every layer.", legacy=0.0),
    Option("weight_decay", 0.0, click.FloatRange(min=0),
           "Decoupled weight decay (AdamW) of every weight; 0: plain Adam.", legacy=0.0),
    Option("sampled_softmax", 0, click.IntRange(min=0),
           "Train on a softmax over N sampled candidate tokens instead of the whole vocabulary (word level: "
           "the output layer is most of a step's cost). The training loss is then the sampled estimate; "
           "validation and evaluate stay exact. 0: the full softmax.", legacy=0),
) + streaming_options("examples") + recurrent_options(
    cell="gru", units=256, layers=2, embedding_dim=64, dropout=0.2,
) + training_options(epochs=30, batch_size=64, learning_rate=2e-3, clipnorm=1.0, patience=3)

EVALUATE_OPTIONS = Options(
    Option("test_file", None, click.Path(dir_okay=False), "Examples to score (default: the run's validation data)."),
)

SAMPLE_OPTIONS = Options(
    Option("num", 20, click.IntRange(min=1, max=100000), "How many samples."),
    Option("seed", 0, int, "The same seed gives the same samples, byte for byte."),
    Option("temperature", 1.0, POSITIVE, "Below 1: safer; above 1: more adventurous."),
    Option("top_k", 0, click.IntRange(min=0), "Sample among the K most likely tokens only (0: all)."),
    Option("top_p", 1.0, click.FloatRange(0, 1, min_open=True), "Sample among the most likely tokens whose "
           "probabilities add up to P (nucleus sampling; 1: all)."),
    Option("prefix", "", None, "Every sample starts with this text."),
    Option("max_length", None, click.IntRange(min=1),
           "Tokens per sample at most (default: the run's --max-length, or --window in --mode text)."),
)

DEFAULTS = OPTIONS.defaults
