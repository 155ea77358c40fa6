"""python -m apps.translation train|evaluate|translate|export"""

import json

import click

from apps.common import cli as common
from apps.common.errors import UserError
from apps.common.rundir import RunDir, atomic_write_text

from . import config
from .data import level_of, load_evaluation_data, load_training_data


@click.group(cls=common.AppGroup)
def cli():
    """Translation: bidirectional encoder and attentive decoder of our cells."""


@cli.command()
@common.run_dir_option
@click.option("--train-file", type=click.Path(dir_okay=False), help="Tab-separated sentence pairs.")
@click.option("--valid-file", type=click.Path(dir_okay=False), help="Default: carved from the training pairs.")
@click.option("--dataset", help="'dates' (generated, the default) or a tensorflow-datasets translation set.")
@click.option("--valid-fraction", type=click.FloatRange(0, 1, min_open=True, max_open=True))
@click.option("--source-column", type=click.IntRange(min=0))
@click.option("--target-column", type=click.IntRange(min=0))
@click.option("--train-size", type=click.IntRange(min=10), help="How many dates to generate.")
@click.option("--level", type=click.Choice(["char", "word"]), help="Tokens: default char for dates, else word.")
@click.option("--target-case", type=click.Choice(["keep", "lower"]),
              help="keep (default): the model writes capitals itself, as references have them.")
@click.option("--max-tokens", type=click.IntRange(min=5))
@click.option("--max-length", type=click.IntRange(min=2))
@click.option("--cell", type=click.Choice(["rnn", "gru", "lstm"]))
@click.option("--units", type=click.IntRange(min=1))
@click.option("--embedding-dim", type=click.IntRange(min=1))
@click.option("--attention", type=click.Choice(["additive", "multiplicative"]))
@click.option("--output-dim", type=click.IntRange(min=1),
              help="Attentional vector before the softmax (default 2 x units); smaller trains faster.")
@click.option("--dropout", type=click.FloatRange(0, 1, max_open=True))
@common.training_options
def train(run_dir, **given):
    """Train into RUN_DIR; run again to continue an interrupted run."""
    strategy = common.distribution(given)
    options = common.overrides(config.DEFAULTS, **given)
    options["level"] = level_of(options)
    run = RunDir(run_dir, config.APP)
    common.seed_everything(options["seed"])
    train_pairs, valid_pairs = load_training_data(options)
    resuming = run.start(options, config.RESUMABLE, config.DEFAULTS)

    from datasets.seq2seq import build_vocabulary, make_dataset, make_lookup

    if resuming and run.vocabulary_path("target").exists():
        source_vocab, target_vocab = run.read_vocabulary("source"), run.read_vocabulary("target")
    else:
        source_vocab = build_vocabulary([s for s, _ in train_pairs], options["level"], options["max_tokens"])
        target_vocab = build_vocabulary([t for _, t in train_pairs], options["level"], options["max_tokens"],
                                        lowercase=options["target_case"] == "lower")
        run.write_vocabulary("source", source_vocab)
        run.write_vocabulary("target", target_vocab)
    source_lookup, target_lookup = make_lookup(source_vocab), make_lookup(target_vocab)
    click.echo(f"{len(train_pairs)} training and {len(valid_pairs)} validation pairs; "
               f"{options['level']} vocabularies {source_lookup.vocabulary_size()} -> "
               f"{target_lookup.vocabulary_size()}")
    batches = dict(source_lookup={"lookup": source_lookup, "level": options["level"]},
                   target_lookup={"lookup": target_lookup, "level": options["level"],
                                  "lowercase": options["target_case"] == "lower"},
                   level=options["level"], max_length=options["max_length"], batch_size=options["batch_size"],
                   seed=options["seed"])
    train_ds = make_dataset(train_pairs, shuffle=True, **batches)
    valid_ds = make_dataset(valid_pairs, shuffle=False, **batches)

    from apps.common.training import fit

    from .model import build_model

    with strategy.scope():
        model = build_model(options, source_lookup.vocabulary_size(), target_lookup.vocabulary_size())
    fit(model, train_ds, valid_ds, run, epochs=options["epochs"], monitor="val_loss", mode="min",
        patience=options["patience"])
    click.echo(f"model written to {run.model_path}" if run.writer else "worker done: the chief writes the run")


def load_run(run_dir):
    """(options, model, source lookup, target lookup) of a trained run."""
    run = RunDir(run_dir, config.APP)
    options = run.trained_options()
    import keras

    import layers  # noqa: F401  registers our layers for deserialisation
    from datasets.seq2seq import make_lookup

    from .model import masked_accuracy

    model = keras.models.load_model(run.model_path, compile=False,
                                    custom_objects={"masked_accuracy": masked_accuracy})
    return options, model, make_lookup(run.read_vocabulary("source")), make_lookup(run.read_vocabulary("target"))


def check_beam_size(beam_size, target_lookup):
    if beam_size > target_lookup.vocabulary_size():
        raise UserError(f"--beam-size {beam_size} is larger than the target vocabulary "
                        f"({target_lookup.vocabulary_size()} tokens)")


def translate_texts(texts, options, model, source_lookup, target_lookup, beam_size=1, batch_size=256,
                    length_penalty=1.0):
    """Translations of texts, by the same graph functions the export serves."""
    import tensorflow as tf

    check_beam_size(beam_size, target_lookup)
    from .serving import make_translate_fn

    translate = make_translate_fn(model, source_lookup, target_lookup.get_vocabulary(), options["level"],
                                  options["max_length"], beam_size, length_penalty)
    from datasets.progress import progress

    starts = progress(range(0, len(texts), batch_size), description="translating", unit="batches")
    return [t.decode("utf-8") for i in starts
            for t in translate(tf.constant(texts[i:i + batch_size]))["translation"].numpy()]


@cli.command()
@common.run_dir_option
@click.option("--test-file", type=click.Path(dir_okay=False), help="Tab-separated pairs.")
@click.option("--dataset", help="'dates' (new generated dates) or a tensorflow-datasets set (its test split).")
@click.option("--size", type=click.IntRange(min=1), default=10000, show_default=True,
              help="How many dates to generate.")
@click.option("--validation", is_flag=True,
              help="The run's validation pairs (from --valid-file, or carved from the training file at training).")
@click.option("--beam-size", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--length-penalty", type=float, default=1.0, show_default=True)
def evaluate(run_dir, test_file, dataset, size, validation, beam_size, length_penalty):
    """BLEU and chrF (sacrebleu, detokenised) and exact-match accuracy."""
    import sacrebleu

    options, model, source_lookup, target_lookup = load_run(run_dir)
    if validation and (test_file or dataset):
        raise UserError("--validation takes no --test-file or --dataset")
    pairs = load_training_data(options)[1] if validation else load_evaluation_data(options, test_file, dataset, size)
    sources, references = [s for s, _ in pairs], [t for _, t in pairs]
    hypotheses = translate_texts(sources, options, model, source_lookup, target_lookup, beam_size,
                                 length_penalty=length_penalty)
    normalise = (lambda s: s.lower()) if options["level"] == "word" else (lambda s: s)
    result = {
        "pairs": len(pairs),
        "bleu": sacrebleu.corpus_bleu(hypotheses, [references]).score,
        "chrf": sacrebleu.corpus_chrf(hypotheses, [references]).score,
        "exact_match": sum(normalise(h) == normalise(r) for h, r in zip(hypotheses, references)) / len(pairs),
        "beam_size": beam_size,
        "data": "validation" if validation else test_file or f"{dataset or options['dataset']}",
        "examples": [{"source": s, "reference": r, "translation": h}
                     for s, r, h in list(zip(sources, references, hypotheses))[:10]],
    }
    common.print_table([(k, f"{result[k]:.4f}" if k == "exact_match" else f"{result[k]:.2f}")
                        for k in ("bleu", "chrf", "exact_match")], ["metric", "value"])
    path = RunDir(run_dir, config.APP).evaluation_path
    atomic_write_text(path, json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    click.echo(f"\nwritten to {path}")


def save_attention_plot(path, source_tokens, target_tokens, weights):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(4, 0.4 * len(source_tokens)), max(3, 0.4 * len(target_tokens))))
    ax.imshow(weights, cmap="viridis", aspect="auto", vmin=0, vmax=1)
    ax.set_xticks(range(len(source_tokens)), [t if t.strip() else "␣" for t in source_tokens], rotation=90)
    ax.set_yticks(range(len(target_tokens)), target_tokens)
    ax.set_xlabel("source")
    ax.set_ylabel("translation")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


@cli.command()
@common.run_dir_option
@click.argument("texts", nargs=-1, required=True)
@click.option("--beam-size", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--length-penalty", type=float, default=1.0, show_default=True)
@click.option("--plot-attention", type=click.Path(dir_okay=False), help="PNG of the first text's attention.")
def translate(run_dir, texts, beam_size, length_penalty, plot_attention):
    """Print the translation of each TEXT."""
    options, model, source_lookup, target_lookup = load_run(run_dir)
    texts = list(texts)
    for text, out in zip(texts, translate_texts(texts, options, model, source_lookup, target_lookup, beam_size,
                                                 length_penalty=length_penalty)):
        click.echo(out)
    if plot_attention:
        import numpy as np
        import tensorflow as tf

        from datasets.seq2seq import END_ID, encode, split_tokens

        from .model import Decoder, greedy_decode

        source = encode(tf.constant(texts[:1]), source_lookup, options["level"], options["max_length"]).to_tensor()
        if source.shape[1] == 0:
            raise UserError("--plot-attention needs a text with at least one token")
        tokens, attention = greedy_decode(Decoder(model), source, options["max_length"])
        ids = list(np.asarray(tokens)[0])
        length = ids.index(END_ID) + 1 if END_ID in ids else len([i for i in ids if i])
        vocabulary = target_lookup.get_vocabulary()
        target_tokens = [vocabulary[i] for i in ids[:length]]
        source_tokens = [t.decode("utf-8") for t in split_tokens(tf.constant(texts[:1]), options["level"])
                         .to_list()[0][: source.shape[1]]]
        save_attention_plot(plot_attention, source_tokens, target_tokens, np.asarray(attention)[0, :length])
        click.echo(f"attention plot written to {plot_attention}", err=True)


@cli.command()
@common.run_dir_option
@common.export_options
@click.option("--beam-size", type=click.IntRange(min=1), default=4, show_default=True,
              help="Hypotheses of the beam_search signature; 1 exports serving_default (greedy) only.")
@click.option("--length-penalty", type=float, default=1.0, show_default=True)
def export(run_dir, export_base, version, beam_size, length_penalty):
    """Write a SavedModel to EXPORT_BASE/translation/VERSION; prints that directory last."""
    click.echo(str(export_run(run_dir, export_base, version, beam_size, length_penalty)))


def export_run(run_dir, export_base="saved_models", version=None, beam_size=4, length_penalty=1.0):
    """Export a trained run as the next (or the given) version; returns its directory."""
    from apps.common.export import export_versioned

    from .serving import write_saved_model

    options, model, source_lookup, target_lookup = load_run(run_dir)
    check_beam_size(beam_size, target_lookup)
    return export_versioned(
        lambda path: write_saved_model(path, model, source_lookup, target_lookup, options["level"],
                                       options["max_length"], beam_size, length_penalty),
        export_base, config.APP, version,
    )
