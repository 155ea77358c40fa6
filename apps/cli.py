"""python -m apps export-all: every app's trained run to one TensorFlow Serving tree."""

import importlib

import click

from apps.common import cli as common
from apps.common.app import export_run
from apps.common.rundir import RunDir

@click.group(cls=common.AppGroup)
def cli():
    """Commands across the apps; each app has its own: python -m apps.<app> --help."""


@cli.command("export-all")
@click.option("--sentiment", type=click.Path(file_okay=False), help="Run directory of apps.sentiment.")
@click.option("--ner", type=click.Path(file_okay=False), help="Run directory of apps.ner.")
@click.option("--translation", type=click.Path(file_okay=False), help="Run directory of apps.translation.")
@click.option("--music", type=click.Path(file_okay=False), help="Run directory of apps.music.")
@click.option("--textgen", type=click.Path(file_okay=False), help="Run directory of apps.textgen.")
@click.option("--export-base", type=click.Path(file_okay=False), default="saved_models", show_default=True,
              help="Root of the TensorFlow Serving layout; models.config is written there.")
def export_all(export_base, **run_dirs):
    """Export the next version of each given app's run and write EXPORT_BASE/models.config.

    Every run directory is checked before anything is written, so a wrong one
    costs no export. Prints each version directory, then models.config.
    """
    runs = {app: path for app, path in run_dirs.items() if path}
    if not runs:
        raise click.UsageError("give at least one run directory: --sentiment, --ner, --translation, --music or "
                               "--textgen")
    for app, path in runs.items():
        RunDir(path, app).trained_options()
    for app, path in runs.items():
        click.echo(str(export_run(importlib.import_module(f"apps.{app}.cli").APP, path, export_base)))
    click.echo(f"{export_base}/models.config")
