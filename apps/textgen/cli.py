"""python -m apps.textgen train|evaluate|sample|export"""

import click

from apps.common import app as harness
from apps.common import cli as common

from . import config, data, evaluate, model, serving

APP = harness.App(
    name=config.APP, options=config.OPTIONS, vocabularies=("tokens",), monitor="val_loss", mode="min",
    read_training_data=data.read_training_data, build_vocabularies=data.build_vocabularies,
    make_encoders=data.make_encoders, make_datasets=data.make_datasets, build_model=model.build_run_model,
    write_saved_model=serving.write_run, reduce_lr_option="reduce_lr_patience",
)


@click.command()
@common.run_dir_option
@config.SAMPLE_OPTIONS.click
def sample(run_dir, **given):
    """Print new texts drawn from the model; * marks a copy of a training example."""
    trained = harness.load_run(APP, run_dir)
    texts = evaluate.sample_texts(trained, **config.SAMPLE_OPTIONS.values(given))
    seen = data.training_copies(trained.options, texts)
    for text in texts:
        click.echo(f"{'*' if text in seen else ' '} {text}")
    if trained.options.mode == "lines":
        new = sum(text not in seen for text in texts)
        click.echo(f"{new} of {len(texts)} new ({100 * new / len(texts):.1f}%); * a training example", err=True)


cli = harness.app_group(
    APP, "Text generation: a character- (or word-) level language model of our cells that samples new text.",
    harness.evaluate_command(APP, "NLL per character (nats and bits, end mark included), perplexity, accuracy.",
                             evaluate, config.EVALUATE_OPTIONS),
    sample,
    train_help="Train a language model into RUN_DIR; run again to continue an interrupted run.",
    export_help="SavedModel with serving_default (next-token probabilities) and generate; prints its "
                "directory last.",
)
