"""Scores of a trained next-event model: pure functions, no printing."""

from apps.common.evaluation import next_token_scores


def evaluate_run(trained):
    """NLL per event, perplexity and next-event accuracy of a TrainedRun on its validation tunes.

    Every validation event is scored, one unseen in training as [UNK] at the
    probability the model gives [UNK] (`unseen_events` says how many); only a
    run made before [UNK] existed leaves them out (`unseen_scored` False).
    """
    from .data import UNKNOWN, read_tunes, split_tunes, unseen_events, windows

    options = trained.options
    _, valid = split_tunes(read_tunes(options), options.valid_fraction, options.seed)
    x, y = windows(valid, trained.encoders, options.window)
    scores = next_token_scores(trained.model, x, y)
    return {"tunes": len(valid), "events": scores["tokens"], "nll_per_event": scores["nll_per_token"],
            "accuracy": scores["accuracy"], "perplexity": scores["perplexity"],
            "unseen_events": unseen_events(valid, trained.encoders), "unseen_scored": UNKNOWN in trained.encoders}


def report(result):
    from apps.common.cli import format_table

    rows = [(k, f"{result[k]:.4f}") for k in ("nll_per_event", "perplexity", "accuracy")]
    unseen = f"{result['unseen_events']}" + ("" if result["unseen_scored"] else " (left out: a run made before [UNK])")
    return format_table(rows + [("events scored", str(result["events"])), ("unseen in training", unseen)],
                        ["metric", "value"])
