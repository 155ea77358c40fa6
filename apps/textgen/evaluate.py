"""Scores and samples of a trained language model: pure functions, no printing."""

import math

from apps.common.evaluation import next_token_scores


def score_texts(trained, examples):
    """NLL per token in nats and bits (the end mark of each example included), perplexity, accuracy.

    A token the vocabulary lacks is scored as the unknown token, never dropped.
    """
    from .data import windows

    x, y = windows(trained.options, trained.encoders, examples)
    scores = next_token_scores(trained.model, x, y)
    return {**scores, "nll_bits_per_token": scores["nll_per_token"] / math.log(2)}


def evaluate_run(trained, test_file=None):
    """score_texts on --test-file, or on the run's validation data."""
    from datasets import textgen

    from .data import load_examples

    options = trained.options
    if test_file:
        examples = [textgen.read_text(test_file, options.lowercase)] if options.mode == "text" \
            else textgen.read_examples(test_file, options.lowercase)
    else:
        examples = load_examples(options)[1]
    return {**score_texts(trained, examples), "data": test_file or "validation",
            "level": options.level, "mode": options.mode}


def report(result):
    from apps.common.cli import format_table

    unit = "character" if result["level"] == "char" else "word"
    rows = [(f"NLL per {unit} (nats)", f"{result['nll_per_token']:.4f}"),
            (f"NLL per {unit} (bits)", f"{result['nll_bits_per_token']:.4f}"),
            ("perplexity", f"{result['perplexity']:.3f}"), ("next-token accuracy", f"{result['accuracy']:.4f}"),
            (f"{unit}s scored", str(result["tokens"]))]
    return format_table(rows, ["metric", "value"])


def sample_texts(trained, num, seed=0, temperature=1.0, top_k=0, top_p=1.0, prefix="", max_length=None):
    """`num` samples, each starting with `prefix`, by the same graph function the export serves."""
    import tensorflow as tf

    from .serving import run_generate_fn

    generate = run_generate_fn(trained, max_length)
    out = generate(tf.constant([prefix]), tf.constant(num, tf.int32), tf.constant(temperature, tf.float32),
                   tf.constant(seed, tf.int32), tf.constant(top_k, tf.int32), tf.constant(top_p, tf.float32))
    return [t.decode("utf-8", errors="replace") for t in out["texts"].numpy()]
