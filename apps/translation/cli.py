"""python -m apps.translation train|evaluate|translate|export"""

import click

from apps.common import app as harness
from apps.common import cli as common

from . import config, data, evaluate, model, serving

APP = harness.App(
    name=config.APP, options=config.OPTIONS, vocabularies=("source", "target"), monitor="val_loss", mode="min",
    read_training_data=data.read_training_data, build_vocabularies=data.build_vocabularies,
    make_encoders=data.make_encoders, make_datasets=data.make_datasets, build_model=model.build_run_model,
    write_saved_model=serving.write_run, custom_objects={"masked_accuracy": model.masked_accuracy},
    check_export=lambda trained, beam_size, **_: evaluate.check_beam_size(beam_size, trained.encoders[1]),
    export_options=config.EXPORT_OPTIONS,
)


@click.command()
@common.run_dir_option
@click.argument("texts", nargs=-1, required=True)
@config.BEAM.click
@click.option("--plot-attention", type=click.Path(dir_okay=False), help="PNG of the first text's attention.")
def translate(run_dir, texts, plot_attention, **beam):
    """Print the translation of each TEXT."""
    trained = harness.load_run(APP, run_dir)
    for out in evaluate.translate_texts(list(texts), trained, **config.BEAM.values(beam)):
        click.echo(out)
    if plot_attention:
        evaluate.save_attention_plot(plot_attention, *evaluate.first_text_attention(trained, texts[0]))
        click.echo(f"attention plot written to {plot_attention}", err=True)


cli = harness.app_group(
    APP, "Translation: bidirectional encoder and attentive decoder of our cells.",
    harness.evaluate_command(
        APP, "BLEU and chrF (sacrebleu, detokenised) and exact-match accuracy.", evaluate, config.EVALUATE_OPTIONS),
    translate,
)
