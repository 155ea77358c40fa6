"""The polyphonic benchmark as a run: train on piano rolls, score the validation NLL per step, report.

Its own options (benchmark_config.py) and run layout: each run is RUN_DIR/NAME,
and RUN_DIR/benchmark.md tables every run under RUN_DIR.
"""

import json
import os

import click

from apps.common import cli as common
from apps.common.errors import UserError
from apps.common.rundir import RunDir, atomic_write_text

from . import benchmark_config, polyphonic

RESULT_KEYS = ("dataset", "cell", "units", "layers", "dropout", "window", "output_layer", "output_units",
               "optimizer", "weight_noise")


def run_dir_of(base, name, options):
    if name is not None and (not name or os.sep in name or name.startswith(".")):
        raise UserError(f"--name {name!r}: give a plain folder name")
    return RunDir(os.path.join(base, name or f"{options.dataset}-{options.cell}-{options.units}"), "music")


def datasets_of(options, data_dir):
    """(train rolls, valid rolls, train dataset, valid dataset) of batches (inputs, targets, weights)."""
    from datasets.polyphonic import make_dataset, read_piano_rolls, split_paths

    train_path, valid_path = split_paths(data_dir, options.dataset)
    train_rolls, valid_rolls = read_piano_rolls(train_path), read_piano_rolls(valid_path)
    train_ds = make_dataset(train_rolls, batch_size=options.batch_size, shuffle=True, seed=options.seed,
                            window=options.window)
    valid_ds = make_dataset(valid_rolls, batch_size=options.batch_size, shuffle=False, seed=0)
    return train_rolls, valid_rolls, train_ds, valid_ds


def run_benchmark(base, given):
    """Train (or continue) one benchmark run under `base`; write its evaluation and base/benchmark.md."""
    from apps.common.distribute import make_strategy

    unrecorded = benchmark_config.OPTIONS.pop_unrecorded(given)
    strategy = make_strategy(unrecorded["strategy"] or "default", unrecorded["cpu_replicas"])
    options = benchmark_config.OPTIONS.resolve(given)
    options.update(mode="benchmark", units=options.units or polyphonic.CHUNG_UNITS[options.cell])
    run = run_dir_of(base, unrecorded["name"], options)
    common.seed_everything(options.seed)
    train_rolls, valid_rolls, train_ds, valid_ds = datasets_of(options, unrecorded["data_dir"])
    run.start(options, benchmark_config.OPTIONS.resumable,
              benchmark_config.OPTIONS.legacy_defaults)
    with strategy.scope():
        model = build_model(options)
    click.echo(f"{options.dataset}: {len(train_rolls)} training and {len(valid_rolls)} validation sequences; "
               f"{options.cell} {options.units} units, {model.count_params()} parameters")
    _fit(model, options, run, train_ds, valid_ds)
    if run.writer:
        _write_evaluation(run, options, valid_ds)
        click.echo(polyphonic.write_report(base))


def build_model(options):
    """The run's model, compiled, from its recorded options."""
    return polyphonic.build_model(
        options.cell, options.units, layers=options.layers, dropout=options.dropout,
        learning_rate=options.learning_rate, clipnorm=options.clipnorm, seed=options.seed,
        output=options.output_layer, output_units=options.output_units, optimizer=options.optimizer,
        ema_momentum=options.ema_momentum)


def _fit(model, options, run, train_ds, valid_ds):
    from apps.common.training import WeightNoise, fit

    def batches(x, y, w):
        return polyphonic.model_inputs(model, x, y), y, w

    noise = [WeightNoise(options.weight_noise, options.seed)] if options.weight_noise else []
    fit(model, train_ds.map(batches), valid_ds.map(batches), run, epochs=options.epochs, monitor="val_nll",
        mode="min", patience=options.patience, extra_callbacks=noise)


def _write_evaluation(run, options, valid_ds):
    # Built from the options and given the saved weights: a run saved before the models output logits
    # (its last layer applied the sigmoid) holds the same weights, and is scored exactly too.
    best = build_model(options)
    best.optimizer.build(best.trainable_variables)  # the file holds optimizer state too: same slots, no warning
    best.load_weights(run.model_path)
    result = {**{k: options[k] for k in RESULT_KEYS}, "parameters": best.count_params(),
              "valid_nll_per_step": polyphonic.nll_per_step(best, valid_ds)}
    atomic_write_text(run.evaluation_path, json.dumps(result, indent=2) + "\n")


@click.command()
@common.run_dir_option
@benchmark_config.OPTIONS.click
def benchmark(run_dir, **given):
    """Train and evaluate on piano rolls: NLL per time step, as in Chung et al. 2014."""
    run_benchmark(run_dir, given)
