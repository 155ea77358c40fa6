"""Options declared once: default, type, range and help together.

An app lists its options as `Option`s in its `config.py`. From that one list
come the click options of its commands (`Options.click`), the defaults that
a run directory records (`Options.defaults`), which options a resumed run may
change (`Options.resumable`), and the resolved options a run uses
(`Options.resolve`), read by attribute: `options.units`. A misspelt name
fails where it is written, with the names that exist.
"""

import dataclasses

import click

UNSET = object()


class CountOr(click.ParamType):
    """A whole number (>= 0) or one word that stands for a choice made elsewhere ("auto", "off")."""

    def __init__(self, word, what):
        self.word, self.what = word, what
        self.name = f"N|{word}"

    def convert(self, value, param, ctx):
        if value == self.word or (isinstance(value, int) and value >= 0):
            return value
        try:
            count = int(value)
        except (TypeError, ValueError):
            count = -1
        if count < 0:
            self.fail(f"{value!r} is neither {self.word!r} nor a number of {self.what} (0 or more)", param, ctx)
        return count


@dataclasses.dataclass(frozen=True)
class Option:
    """One command-line option.

    `name` is the Python name (`max_tokens` -> `--max-tokens`); `type` a
    click type (`click.IntRange(min=1)`, `click.Choice([...])`) or None for
    text; `flag=True` makes a boolean `--name/--no-name`; `resumable` options
    may change when an interrupted run continues (epochs, patience);
    `recorded=False` keeps an option out of the run's config (how to run, not
    what to train: the distribution strategy, say); `required` options have no
    default. `legacy` is the value that runs made before the option existed
    were trained with, when the new default changes what training does
    (default: `default`, i.e. the new option keeps the old behaviour).
    """

    name: str
    default: object = None
    type: object = None
    help: str = ""
    flag: bool = False
    resumable: bool = False
    recorded: bool = True
    required: bool = False
    legacy: object = UNSET

    @property
    def switch(self):
        dashed = self.name.replace("_", "-")
        return f"--{dashed}/--no-{dashed}" if self.flag else f"--{dashed}"

    def click_option(self):
        """The click option; its value is None when not given, so the run's recorded default applies."""
        shown = f" [default: {self.default}]" if self.default not in (None, "") else ""
        return click.option(self.switch, self.name, type=self.type, default=None, required=self.required,
                            help=f"{self.help}{shown}".strip())


class RunOptions(dict):
    """A run's options: a dict (as config.json holds them) read by attribute."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no option {name!r}; the options are {sorted(self)}") from None


class Options:
    """An app's options, in the order `--help` lists them."""

    def __init__(self, *options):
        self.by_name = {}
        for option in options:
            if option.name in self.by_name:
                raise ValueError(f"option {option.name!r} declared twice")
            self.by_name[option.name] = option

    def __iter__(self):
        return iter(self.by_name.values())

    def __add__(self, other):
        return Options(*self, *other)

    def only(self, *names):
        """These options alone (for a command that needs some of an app's options, as train declares them)."""
        return Options(*(self.by_name[name] for name in names))

    @property
    def defaults(self):
        """{name: default} of the recorded options."""
        return {o.name: o.default for o in self if o.recorded}

    @property
    def legacy_defaults(self):
        """{name: value} of the recorded options for a run directory that does not record them."""
        return {o.name: o.default if o.legacy is UNSET else o.legacy for o in self if o.recorded}

    @property
    def resumable(self):
        return {o.name for o in self if o.resumable}

    def click(self, func):
        """Decorate a click command with every option, in declared order."""
        for option in reversed(list(self)):
            func = option.click_option()(func)
        return func

    def values(self, given):
        """{name: the given value (not None), else the default} of every option in this list."""
        return {o.name: given[o.name] if given.get(o.name) is not None else o.default for o in self}

    def resolve(self, given):
        """RunOptions of the recorded options: `values` less how to run (strategy, ...)."""
        values = self.values(given)
        return RunOptions({name: values[name] for name in self.defaults})

    def pop_unrecorded(self, given):
        """Remove and return {name: value} of the options that are not recorded (strategy, ...)."""
        return {o.name: given.pop(o.name, None) for o in self if not o.recorded}


def training_options(*, epochs, batch_size, learning_rate, clipnorm, patience, seed=0, ema_momentum=0.0):
    """The training options every app has, with the app's defaults."""
    return Options(
        Option("epochs", epochs, click.IntRange(min=1), "Epochs; a larger number continues a finished run.",
               resumable=True),
        Option("seed", seed, int, "Seed of weights, shuffling, dropout."),
        Option("batch_size", batch_size, click.IntRange(min=1), "Global batch size (all replicas together)."),
        Option("learning_rate", learning_rate, click.FloatRange(min=0, min_open=True)),
        Option("clipnorm", clipnorm, click.FloatRange(min=0, min_open=True), "Clip each gradient to this norm."),
        Option("patience", patience, click.IntRange(min=1), "Early-stopping patience (epochs).", resumable=True),
        Option("ema_momentum", ema_momentum, click.FloatRange(0, 1, max_open=True),
               "Validate, keep and serve the exponential moving average of the weights, updated every step with "
               "this momentum (Polyak averaging, Keras' use_ema); 0: the weights themselves.", legacy=0.0),
        Option("strategy", "default", click.Choice(["default", "mirrored", "multi-worker"]),
               "tf.distribute strategy; --batch-size is the global batch.", recorded=False),
        Option("cpu_replicas", None, click.IntRange(min=1),
               "Split the CPU into N logical devices (to try --strategy mirrored without GPUs).", recorded=False),
    )


def data_options(*, train_help, dataset, dataset_help, valid_fraction, examples):
    """--train-file, --valid-file, --dataset and --valid-fraction: the data options of the file-reading apps."""
    return Options(
        Option("train_file", None, click.Path(dir_okay=False), train_help),
        Option("valid_file", None, click.Path(dir_okay=False), "Default: carved from the training data."),
        Option("dataset", dataset, None, dataset_help),
        Option("valid_fraction", valid_fraction, click.FloatRange(0, 1, min_open=True, max_open=True),
               f"Share of the training {examples} carved off for validation, with the seed."),
    )


def recurrent_options(*, cell, units, layers, embedding_dim, dropout):
    """--cell, --units, --layers, --embedding-dim, --dropout: a stack of our recurrent cells over embeddings."""
    return Options(
        Option("cell", cell, click.Choice(["rnn", "gru", "lstm"])),
        Option("units", units, click.IntRange(min=1)),
        Option("layers", layers, click.IntRange(min=1)),
        Option("embedding_dim", embedding_dim, click.IntRange(min=1)),
        Option("dropout", dropout, click.FloatRange(0, 1, max_open=True)),
    )


def pretrained_options():
    """Word vectors a user has (no quality figure is claimed for them here: this machine cannot download any)."""
    return Options(
        Option("embeddings", None, click.Path(dir_okay=False),
               "GloVe, word2vec or fastText vectors in text format (.gz accepted) to start the word embedding "
               "from; their dimension must be the embedding's. Coverage is printed."),
    )


def adversarial_options(epsilon=0.0):
    """--adversarial-epsilon (`apps.common.adversarial`), for apps whose models perturb their embeddings."""
    return Options(
        Option("adversarial_epsilon", epsilon, click.FloatRange(min=0),
               "Adversarial training (Miyato et al. 2017): each step also trains on the batch with its embeddings "
               "moved, by this share of their size, in the direction that raises the loss most; 0: off. About "
               "twice the time per step.", legacy=0.0),
    )


def streaming_options(examples, shuffled=None, sample=50000,
                      files="--train-file may be a glob or a comma-separated list"):
    """--pipeline memory|stream and the bounds of the stream, for apps that read large files.

    `examples` are what the carve hashes, `shuffled` what the buffer holds (default: the same),
    `files` says which files stream.
    """
    shuffled = shuffled or examples
    return Options(
        Option("pipeline", "memory", click.Choice(["memory", "stream"]),
               "memory: read, carve and vectorise everything first; stream: read the files as training goes, in "
               f"bounded memory (any corpus size; {files}; validation carved by a stable hash of the "
               f"{examples[:-1]}).", legacy="memory"),
        Option("shuffle_buffer", 10000, click.IntRange(min=0),
               f"{shuffled.capitalize()} shuffled at a time with --pipeline stream."),
        Option("vocabulary_sample", sample, click.IntRange(min=1),
               f"Training {examples} (the first, taking the files in turn) that the vocabularies are counted on "
               "with --pipeline stream."),
    )
