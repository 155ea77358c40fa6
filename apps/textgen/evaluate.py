"""Scores and samples of a trained language model: pure functions, no printing."""

import math

from apps.common.evaluation import as_batches, next_token_log_probabilities, next_token_scores


def score_texts(trained, examples):
    """NLL per token in nats and bits (the end mark of each example included), perplexity, accuracy.

    A token the vocabulary lacks is scored as the unknown token, never dropped.
    """
    from .data import windows

    return _scores(trained, as_batches(*windows(trained.options, trained.encoders, examples)))


def _scores(trained, batches):
    scores = next_token_scores(trained.model, batches)
    return {**scores, "nll_bits_per_token": scores["nll_per_token"] / math.log(2)}


def example_log_probabilities(trained, examples):
    """log p(example) [N] in nats under the model, end mark included (--mode lines).

    Sampling at temperature 1 draws an example with exactly this probability
    (when it fits --max-length), so the sum over the training examples is the
    share of samples expected to copy one.
    """
    from .data import windows

    if trained.options.mode != "lines":
        raise ValueError("log-probabilities of whole examples need --mode lines")
    return next_token_log_probabilities(trained.model, as_batches(*windows(trained.options, trained.encoders,
                                                                          examples)))[0]


def evaluate_run(trained, test_file=None):
    """The scores of score_texts on --test-file, or on the run's validation data (streamed with --pipeline
    stream)."""
    from .data import evaluation_batches

    return {**_scores(trained, evaluation_batches(trained.options, trained.encoders, test_file)),
            "data": test_file or "validation", "level": trained.options.level, "mode": trained.options.mode}


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
