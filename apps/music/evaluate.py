"""Scores of a trained next-event model: pure functions, no printing."""

from apps.common.evaluation import next_token_scores


def evaluate_run(trained):
    """NLL per event, perplexity and next-event accuracy of a TrainedRun on its validation tunes."""
    from .data import read_tunes, split_tunes, windows

    options = trained.options
    _, valid = split_tunes(read_tunes(options), options.valid_fraction, options.seed)
    x, y = windows(valid, trained.encoders, options.window)
    scores = next_token_scores(trained.model, x, y)
    return {"tunes": len(valid), "events": scores["tokens"], "nll_per_event": scores["nll_per_token"],
            "accuracy": scores["accuracy"], "perplexity": scores["perplexity"]}


def report(result):
    from apps.common.cli import format_table

    return format_table([(k, f"{result[k]:.4f}") for k in ("nll_per_event", "perplexity", "accuracy")],
                        ["metric", "value"])
