"""Every option of the music app (tune generation): default, type, range and help, declared once.

The polyphonic piano-roll benchmark has its own: apps/music/benchmark_config.py.
"""

import click

from apps.common.options import Option, Options, recurrent_options, training_options
from datasets.music import COLLECTIONS

APP = "music"

OPTIONS = Options(
    # data
    Option("corpus", "oneills1850", click.Choice(COLLECTIONS),
           "music21's embedded collection, used when no --data-dir is given."),
    Option("data_dir", None, click.Path(file_okay=False), "A folder of MIDI, MusicXML or ABC files."),
    Option("limit", None, click.IntRange(min=2), "Use only the first N tunes."),
    Option("valid_fraction", 0.1, click.FloatRange(0, 1, min_open=True, max_open=True),
           "Share of the tunes held out for validation (whole tunes), with the seed."),
    Option("transpositions", 3, click.IntRange(min=0, max=12), "Training tunes also moved by -K..K semitones."),
    Option("window", 64, click.IntRange(min=2), "Events per training sequence."),
) + recurrent_options(cell="gru", units=256, layers=2, embedding_dim=64, dropout=0.2) + training_options(
    # 6 epochs: the main job in about 10 minutes on 2 cores (bench/results/music_folk.md).
    epochs=6, batch_size=64, learning_rate=2e-3, clipnorm=1.0, patience=3)

GENERATE_OPTIONS = Options(
    Option("length", 128, click.IntRange(min=1), "Events to generate."),
    Option("seed", 0, int),
    Option("temperature", 1.0, click.FloatRange(min=0, min_open=True)),
    Option("top_k", None, click.IntRange(min=1), "Sample among the K most likely events only."),
    Option("primer", None, None, "corpus:NAME[:INDEX], a MIDI/MusicXML/ABC file, or an ABC string."),
)

DEFAULTS = OPTIONS.defaults
