"""Scores of a trained next-event model: pure functions, no printing."""

from apps.common.evaluation import as_batches, next_token_scores


def evaluate_run(trained):
    """NLL per event, perplexity and next-event accuracy of a TrainedRun on its validation tunes.

    Every validation event is scored, one unseen in training as [UNK] at the
    probability the model gives [UNK] (`unseen_events` says how many); only a
    run made before [UNK] existed leaves them out (`unseen_scored` False).
    """
    from .data import UNKNOWN, read_tunes, split_tunes, streamed_validation, unseen_events, windows

    options = trained.options
    if options.get("pipeline") == "stream":
        batches, counts = streamed_validation(options, trained.encoders)
        scores = next_token_scores(trained.model, batches)  # fills counts in as it reads
    else:
        _, valid = split_tunes(read_tunes(options), options.valid_fraction, options.seed)
        scores = next_token_scores(trained.model, as_batches(*windows(valid, trained.encoders, options.window)))
        counts = {"tunes": len(valid), "unseen_events": unseen_events(valid, trained.encoders)}
    return {"tunes": counts["tunes"], "events": scores["tokens"], "nll_per_event": scores["nll_per_token"],
            "accuracy": scores["accuracy"], "perplexity": scores["perplexity"],
            "unseen_events": counts["unseen_events"], "unseen_scored": UNKNOWN in trained.encoders}


def report(result):
    from apps.common.cli import format_table

    # evaluation.json keeps the keys of event runs; a token is an event, a bar line, a meter, a mode or the end.
    rows = [(label, f"{result[k]:.4f}") for label, k in (("NLL per token", "nll_per_event"),
                                                          ("perplexity", "perplexity"),
                                                          ("next-token accuracy", "accuracy"))]
    unseen = f"{result['unseen_events']}" + ("" if result["unseen_scored"] else " (left out: a run made before [UNK])")
    return format_table(rows + [("tokens scored", str(result["events"])), ("unseen in training", unseen)],
                        ["metric", "value"])


def tune_shapes(tunes, abc_texts=None):
    """How much tunes look like tunes, on token lists of the abc representation (tonic C).

    Returns shares: `whole_bars` (bars whose notes fill the meter; bars at the
    edges of a part may be short: `datasets.tunes.whole_bar_share`), `in_scale` (notes in the scale of the tune's
    mode), `two_parts` (two parts of 8 bars), `meter_and_key` (the tune starts
    with both), and with `abc_texts`, `parsed` (music21 reads the ABC without error).
    """
    from datasets import tunes as abc

    full = counted = 0
    for tokens in tunes:
        f, c = abc.whole_bar_share(tokens)
        full, counted = full + f, counted + c
    shapes = {"tunes": len(tunes), "whole_bars": full / max(counted, 1), "bars": counted,
              "in_scale": sum(abc.in_scale_share(t) for t in tunes) / max(len(tunes), 1),
              "two_parts": sum(abc.two_parts_of_eight_bars(t) for t in tunes) / max(len(tunes), 1),
              "meter_and_key": sum(bool(abc.meter_of(t[:1]) and abc.mode_of(t[1:2])) for t in tunes)
              / max(len(tunes), 1)}
    if abc_texts is not None:
        shapes["parsed"] = sum(_parses(text) for text in abc_texts) / max(len(abc_texts), 1)
    return shapes


def _parses(abc_text):
    from music21 import converter

    try:
        converter.parseData(abc_text, format="abc")
        return True
    except Exception:  # music21 raises many kinds on text it cannot read
        return False
