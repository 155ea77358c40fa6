"""Every option of the music app (tune generation): default, type, range and help, declared once.

The polyphonic piano-roll benchmark has its own: apps/music/benchmark_config.py.
"""

import click

from apps.common.options import Option, Options, recurrent_options, streaming_options, training_options
from datasets.music import COLLECTIONS, REPRESENTATIONS

APP = "music"

OPTIONS = Options(
    # data
    Option("corpus", "oneills1850", click.Choice(COLLECTIONS),
           "music21's embedded collection, used when no --data-dir is given."),
    Option("data_dir", None, click.Path(file_okay=False), "A folder of MIDI, MusicXML or ABC files."),
    Option("limit", None, click.IntRange(min=2), "Use only the first N tunes."),
    Option("valid_fraction", 0.1, click.FloatRange(0, 1, min_open=True, max_open=True),
           "Share of the tunes held out for validation (whole tunes), with the seed."),
    Option("representation", "abc", click.Choice(REPRESENTATIONS),
           "abc: meter, mode, notes and bar lines of each tune moved to tonic C, ended by [END] (folk-rnn's "
           "tokens); events: notes only, in their keys (runs before 2026-11).", legacy="events"),
    Option("transpositions", 3, click.IntRange(min=0, max=12),
           "events only: training tunes also moved by -K..K semitones (abc tunes are all in C)."),
    Option("window", 64, click.IntRange(min=2), "Tokens per training sequence."),
) + streaming_options(
    "tunes", shuffled="windows", sample=5000, files="the files of --data-dir or of the corpus",
) + recurrent_options(cell="gru", units=256, layers=2, embedding_dim=64, dropout=0.2) + training_options(
    # abc tunes are not transposed: an epoch is a seventh of an events epoch, so more of them fit the
    # main job's 10 minutes on 2 cores (bench/results/music_folk.md); early stopping ends it sooner.
    epochs=30, batch_size=64, learning_rate=2e-3, clipnorm=1.0, patience=4)

GENERATE_OPTIONS = Options(
    Option("length", 400, click.IntRange(min=1), "At most this many tokens (abc runs stop at the tune's end)."),
    Option("meter", None, None, "abc runs: the tune's meter, e.g. 6/8 (default: the model's choice)."),
    Option("key", None, None, "abc runs: tonic and mode, e.g. D, Em, Ador, Gmix (default: the model's mode "
                              "in its usual tonic)."),
    Option("free_bars", False, None, "abc runs: sample without the whole-bars grammar (a note only where it fits "
                                     "its bar; short bars only as pickups and part ends).", flag=True),
    Option("seed", 0, int),
    Option("temperature", 1.0, click.FloatRange(min=0, min_open=True)),
    Option("top_k", None, click.IntRange(min=1), "Sample among the K most likely events only."),
    Option("primer", None, None, "corpus:NAME[:INDEX], a MIDI/MusicXML/ABC file, or an ABC string."),
)

DEFAULTS = OPTIONS.defaults
