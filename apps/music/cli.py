"""python -m apps.music train|evaluate|generate|export|benchmark"""

import json
import os

import click

from apps.common import cli as common
from apps.common.errors import UserError
from apps.common.rundir import RunDir, atomic_write_text

from . import config


@click.group(cls=common.AppGroup)
def cli():
    """Music: generate folk tunes note by note with an RNN of our cells."""


def _split(options):
    from .data import augment, read_tunes, split_tunes

    tunes = read_tunes(options)
    if len(tunes) < 2:
        raise UserError(f"only {len(tunes)} tune(s) parsed; need at least two to split train and validation")
    train, valid = split_tunes(tunes, options["valid_fraction"], options["seed"])
    return augment(train, options["transpositions"]), valid


@cli.command()
@common.run_dir_option
@click.option("--corpus", type=click.Choice(["oneills1850", "ryansMammoth", "essenFolksong", "bach"]),
              help="music21's embedded collection (default oneills1850).")
@click.option("--data-dir", type=click.Path(file_okay=False), help="A folder of MIDI, MusicXML or ABC files.")
@click.option("--limit", type=click.IntRange(min=2), help="Use only the first N tunes.")
@click.option("--transpositions", type=click.IntRange(min=0, max=12))
@click.option("--window", type=click.IntRange(min=2))
@click.option("--cell", type=click.Choice(["rnn", "gru", "lstm"]))
@click.option("--units", type=click.IntRange(min=1))
@click.option("--layers", type=click.IntRange(min=1))
@click.option("--embedding-dim", type=click.IntRange(min=1))
@click.option("--dropout", type=click.FloatRange(0, 1, max_open=True))
@common.training_options
def train(run_dir, **given):
    """Train a next-event model into RUN_DIR; run again to continue an interrupted run."""
    strategy = common.distribution(given)
    options = common.overrides(config.DEFAULTS, **given)
    run = RunDir(run_dir, config.APP)
    common.seed_everything(options["seed"])
    train_tunes, valid_tunes = _split(options)

    from .data import vocabulary_of, windows

    resuming = run.start({**options, "mode": "events"}, config.RESUMABLE, config.DEFAULTS)
    vocabulary = run.read_vocabulary("events") if resuming and run.vocabulary_path("events").exists() \
        else vocabulary_of(train_tunes)
    run.write_vocabulary("events", vocabulary)
    index = {t: i for i, t in enumerate(vocabulary)}
    x, y = windows(train_tunes, index, options["window"])
    vx, vy = windows(valid_tunes, index, options["window"])
    click.echo(f"{len(train_tunes)} training tunes (with transpositions), {len(valid_tunes)} validation tunes; "
               f"{len(vocabulary)} events; {len(x)} training windows")
    import tensorflow as tf

    train_ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=options["seed"]) \
        .batch(options["batch_size"]).prefetch(tf.data.AUTOTUNE)
    valid_ds = tf.data.Dataset.from_tensor_slices((vx, vy)).batch(options["batch_size"])

    from apps.common.training import fit

    from .model import build_model

    with strategy.scope():
        model = build_model(options, len(vocabulary))
    fit(model, train_ds, valid_ds, run, epochs=options["epochs"], monitor="val_loss", mode="min",
        patience=options["patience"])
    click.echo(f"model written to {run.model_path}" if run.writer else "worker done: the chief writes the run")


def load_run(run_dir):
    run = RunDir(run_dir, config.APP)
    if run.read_config().get("mode") != "events":
        raise UserError(f"{run_dir}: a polyphonic benchmark run; train, evaluate and generate need a `train` run")
    options = run.trained_options()
    import keras

    import layers  # noqa: F401  registers our cells

    return options, keras.models.load_model(run.model_path, compile=False), run.read_vocabulary("events")


@cli.command()
@common.run_dir_option
def evaluate(run_dir):
    """Negative log-likelihood per event and next-event accuracy on the validation tunes."""
    from .data import read_tunes, split_tunes, windows
    from .evaluate import next_event_scores

    options, model, vocabulary = load_run(run_dir)
    _, valid = split_tunes(read_tunes(options), options["valid_fraction"], options["seed"])
    index = {t: i for i, t in enumerate(vocabulary)}
    x, y = windows(valid, index, options["window"])
    result = {"tunes": len(valid), **next_event_scores(model, x, y)}
    common.print_table([(k, f"{result[k]:.4f}") for k in ("nll_per_event", "perplexity", "accuracy")],
                       ["metric", "value"])
    path = RunDir(run_dir, config.APP).evaluation_path
    atomic_write_text(path, json.dumps(result, indent=2) + "\n")
    click.echo(f"\nwritten to {path}")


def primer_tokens(primer, options):
    """Events of the primer: none, 'corpus:NAME[:INDEX]', a file path, or an ABC string."""
    from datasets.music import corpus_files, load_tunes, parse_file, score_events

    if not primer:
        return []
    if primer.startswith("corpus:"):
        _, name, *rest = primer.split(":")
        tunes, _ = load_tunes(corpus_files(name), limit=int(rest[0]) + 1 if rest else 1)
        return tunes[int(rest[0]) if rest else 0][1]
    if os.path.exists(primer):
        tunes = parse_file(primer)
        if not tunes:
            raise UserError(f"{primer}: no tune with at least 8 notes in the file")
        return tunes[0][1]
    if "K:" in primer or primer.startswith("X:"):
        from music21 import converter

        try:
            return score_events(converter.parseData(primer, format="abc"))
        except Exception as err:
            raise UserError(f"--primer: not valid ABC ({err})") from None
    raise UserError("--primer: give corpus:NAME[:INDEX], a MIDI/MusicXML/ABC file, or an ABC string (with K:)")


def write_outputs(prefix, tokens, title):
    """PREFIX.mid, PREFIX.abc and PREFIX.png; the same tokens give the same bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from music21 import converter

    from datasets.music import parse_token, to_abc

    abc = to_abc(tokens, title)
    parent = os.path.dirname(os.path.abspath(prefix))
    os.makedirs(parent, exist_ok=True)
    atomic_write_text(f"{prefix}.abc", abc)
    score = converter.parseData(abc, format="abc")
    score.write("midi", fp=f"{prefix}.mid")
    fig, ax = plt.subplots(figsize=(12, 3))
    time = 0.0
    for text in tokens:
        pitch, duration = parse_token(text)
        if pitch != "r":
            ax.add_patch(plt.Rectangle((time, pitch - 0.4), duration, 0.8, color="tab:blue"))
        time += duration
    pitches = [parse_token(t)[0] for t in tokens if not t.startswith("r_")] or [60]
    ax.set_xlim(0, max(time, 1))
    ax.set_ylim(min(pitches) - 2, max(pitches) + 2)
    ax.set_xlabel("quarter notes")
    ax.set_ylabel("MIDI pitch")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(f"{prefix}.png", dpi=100, metadata={"Software": None})
    plt.close(fig)


@cli.command()
@common.run_dir_option
@click.option("--length", type=click.IntRange(min=1), default=128, show_default=True, help="Events to generate.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--temperature", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True)
@click.option("--top-k", type=click.IntRange(min=1), default=None)
@click.option("--primer", default=None, help="corpus:NAME[:INDEX], a MIDI/MusicXML/ABC file, or an ABC string.")
@click.option("--output", required=True, help="Prefix of PREFIX.mid, PREFIX.abc and PREFIX.png.")
def generate(run_dir, length, seed, temperature, top_k, primer, output):
    """Sample a tune event by event; the same seed gives byte-identical files."""
    from .data import START
    from .model import sample

    options, model, vocabulary = load_run(run_dir)
    index = {t: i for i, t in enumerate(vocabulary)}
    primer_events = [t for t in primer_tokens(primer, options) if t in index]
    ids = sample(model, [index[START]] + [index[t] for t in primer_events], length, seed, temperature, top_k,
                 forbidden=(0, index[START]))
    tokens = primer_events + [vocabulary[i] for i in ids]
    write_outputs(output, tokens, f"seqapps seed {seed}")
    for suffix in ("mid", "abc", "png"):
        click.echo(f"{output}.{suffix}")


@cli.command()
@common.run_dir_option
@common.export_options
def export(run_dir, export_base, version):
    """SavedModel with serving_default (next-event probabilities) and generate; prints its directory last."""
    click.echo(str(export_run(run_dir, export_base, version)))


def export_run(run_dir, export_base="saved_models", version=None):
    """Export a trained run as the next (or the given) version; returns its directory."""
    from apps.common.export import export_versioned

    from .data import START
    from .serving import write_saved_model

    options, model, vocabulary = load_run(run_dir)
    return export_versioned(lambda path: write_saved_model(path, model, vocabulary.index(START)),
                            export_base, config.APP, version)


@cli.command()
@common.run_dir_option
@click.option("--dataset", type=click.Choice(["jsb_chorales", "nottingham", "musedata", "piano_midi"]),
              required=True)
@click.option("--data-dir", type=click.Path(file_okay=False), required=True,
              help="Folder with <dataset>.train.json and <dataset>.valid.json.")
@click.option("--cell", type=click.Choice(["rnn", "gru", "lstm"]), required=True)
@click.option("--units", type=click.IntRange(min=1), help="Default: Chung et al.'s ~20k parameters.")
@click.option("--layers", type=click.IntRange(min=1))
@click.option("--dropout", type=click.FloatRange(0, 1, max_open=True),
              help="Between layers and before the output (default 0, as in Chung et al.).")
@click.option("--window", type=click.IntRange(min=2),
              help="Train on pieces of this many steps (default: whole sequences); validation always whole.")
@click.option("--output-layer", type=click.Choice(["independent", "autoregressive"]),
              help="independent: 88 sigmoids (Chung et al., the default); autoregressive: the keys of a step "
                   "modelled jointly, NADE-style (layers.autoregressive).")
@click.option("--output-units", type=click.IntRange(min=0),
              help="Hidden units of the autoregressive output (default 128; 0: linear).")
@click.option("--optimizer", type=click.Choice(["adam", "rmsprop"]), help="Default adam; Chung et al. used rmsprop.")
@click.option("--weight-noise", type=click.FloatRange(min=0),
              help="Standard deviation of Gaussian noise on the weights at each training step (Graves 2011; "
                   "Chung et al. used 0.075). Default 0: none.")
@click.option("--name", help="Run name under RUN_DIR (default DATASET-CELL-UNITS).")
@common.training_options
def benchmark(run_dir, dataset, data_dir, cell, units, name, **given):
    """Train and evaluate on piano rolls: NLL per time step, as in Chung et al. 2014."""
    from datasets.polyphonic import make_dataset, read_piano_rolls, split_paths

    from . import polyphonic

    strategy = common.distribution(given)
    options = common.overrides(config.BENCHMARK_DEFAULTS, **given)
    options.update(mode="benchmark", dataset=dataset, cell=cell, units=units or polyphonic.CHUNG_UNITS[cell])
    if name is not None and (not name or os.sep in name or name.startswith(".")):
        raise UserError(f"--name {name!r}: give a plain folder name")
    run = RunDir(os.path.join(run_dir, name or f"{dataset}-{cell}-{options['units']}"), config.APP)
    common.seed_everything(options["seed"])
    train_path, valid_path = split_paths(data_dir, dataset)
    train_rolls, valid_rolls = read_piano_rolls(train_path), read_piano_rolls(valid_path)
    run.start(options, config.RESUMABLE, config.BENCHMARK_DEFAULTS)
    train_ds = make_dataset(train_rolls, batch_size=options["batch_size"], shuffle=True, seed=options["seed"],
                            window=options["window"])
    valid_ds = make_dataset(valid_rolls, batch_size=options["batch_size"], shuffle=False, seed=0)
    with strategy.scope():
        model = polyphonic.build_model(cell, options["units"], options["layers"], options["dropout"],
                                       options["learning_rate"], options["clipnorm"], options["seed"],
                                       options["output_layer"], options["output_units"], options["optimizer"])
    click.echo(f"{dataset}: {len(train_rolls)} training and {len(valid_rolls)} validation sequences; "
               f"{cell} {options['units']} units, {model.count_params()} parameters")
    from apps.common.training import WeightNoise, fit

    def batches(x, y, w):
        return polyphonic.model_inputs(model, x, y), y, w

    fit(model, train_ds.map(batches), valid_ds.map(batches), run, epochs=options["epochs"], monitor="val_nll",
        mode="min", patience=options["patience"],
        extra_callbacks=[polyphonic.ValidationNLL(valid_ds)]
        + ([WeightNoise(options["weight_noise"], options["seed"])] if options["weight_noise"] else []))
    if not run.writer:
        return
    import keras

    best = keras.models.load_model(run.model_path, compile=False)
    nll = polyphonic.nll_per_step(best, valid_ds)
    atomic_write_text(run.evaluation_path, json.dumps({"dataset": dataset, "cell": cell, "units": options["units"],
                                                       "layers": options["layers"], "dropout": options["dropout"],
                                                       "window": options["window"],
                                                       "output_layer": options["output_layer"],
                                                       "output_units": options["output_units"],
                                                       "optimizer": options["optimizer"],
                                                       "weight_noise": options["weight_noise"],
                                                       "parameters": best.count_params(),
                                                       "valid_nll_per_step": nll}, indent=2) + "\n")
    table = polyphonic.write_report(run_dir)
    click.echo(table)
