"""python -m apps.music train|evaluate|generate|export|benchmark"""

import click

from apps.common import app as harness
from apps.common import cli as common

from . import config, data, evaluate, generate as tunes, model, serving
from .benchmark import benchmark

APP = harness.App(
    name=config.APP, options=config.OPTIONS, vocabularies=("events",), monitor="val_loss", mode="min",
    read_training_data=data.read_training_data, build_vocabularies=data.build_vocabularies,
    make_encoders=data.make_encoders, make_datasets=data.make_datasets, build_model=model.build_run_model,
    write_saved_model=serving.write_run, check_run=data.check_run,
)


@click.command()
@common.run_dir_option
@config.GENERATE_OPTIONS.click
@click.option("--output", required=True,
              help="Prefix of PREFIX.abc, .mid, .svg (score), .wav (audio) and .png (piano roll).")
def generate(run_dir, output, **given):
    """Sample a tune token by token; the same seed gives byte-identical files."""
    values = config.GENERATE_OPTIONS.values(given)
    abc, tokens = tunes.generate_tune(harness.load_run(APP, run_dir), title=f"seqapps seed {values['seed']}",
                                      **values)
    written, missing = tunes.write_outputs(output, abc, tokens, f"seqapps seed {values['seed']}")
    for path in written:
        click.echo(path)
    for reason in missing:
        click.echo(reason, err=True)


cli = harness.app_group(
    APP, "Music: generate folk tunes note by note with an RNN of our cells.",
    harness.evaluate_command(
        APP, "Negative log-likelihood per event and next-event accuracy on the validation tunes.", evaluate),
    generate,
    benchmark,
    train_help="Train a next-event model into RUN_DIR; run again to continue an interrupted run.",
    export_help="SavedModel with serving_default (next-event probabilities) and generate; prints its "
                "directory last.",
)
