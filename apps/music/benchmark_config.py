"""Every option of the polyphonic piano-roll benchmark (`python -m apps.music benchmark`), declared once."""

import click

from apps.common.options import Option, Options, training_options
from datasets.polyphonic import DATASETS

OPTIONS = Options(
    Option("dataset", None, click.Choice(DATASETS), required=True),
    # Where the files are is not part of what was trained: a run resumes from another copy.
    Option("data_dir", None, click.Path(file_okay=False),
           "Folder with <dataset>.train.json and <dataset>.valid.json.", required=True, recorded=False),
    Option("cell", None, click.Choice(["rnn", "gru", "lstm"]), required=True),
    Option("units", None, click.IntRange(min=1), "Default: Chung et al.'s ~20k parameters."),
    Option("layers", 1, click.IntRange(min=1)),
    Option("dropout", 0.0, click.FloatRange(0, 1, max_open=True),
           "Between layers and before the output (0, as in Chung et al.)."),
    Option("window", None, click.IntRange(min=2),
           "Train on pieces of this many steps (default: whole sequences); validation always whole."),
    Option("output_layer", "independent", click.Choice(["independent", "autoregressive"]),
           "independent: 88 sigmoids (Chung et al.); autoregressive: the keys of a step modelled jointly, "
           "NADE-style (layers.autoregressive)."),
    Option("output_units", 128, click.IntRange(min=0), "Hidden units of the autoregressive output (0: linear)."),
    Option("optimizer", "adam", click.Choice(["adam", "rmsprop"]), "Chung et al. used rmsprop."),
    Option("weight_noise", 0.0, click.FloatRange(min=0),
           "Standard deviation of Gaussian noise on the weights at each training step (Graves 2011; "
           "Chung et al. used 0.075). 0: none."),
    Option("name", None, None, "Run name under RUN_DIR (default DATASET-CELL-UNITS).", recorded=False),
) + training_options(epochs=100, batch_size=8, learning_rate=2e-3, clipnorm=1.0, patience=10)

DEFAULTS = OPTIONS.defaults
