"""Tunes out of a trained model: primers in; ABC, MIDI, engraved score, audio and a piano roll out. No click."""

import os

from apps.common.errors import UserError
from apps.common.rundir import atomic_write_text


def primer_tokens(primer, options):
    """Events of the primer: none, 'corpus:NAME[:INDEX]', a file path, or an ABC string."""
    from datasets.music import corpus_files, load_tunes, parse_file, score_events

    if not primer:
        return []
    if primer.startswith("corpus:"):
        _, name, *rest = primer.split(":")
        tunes, _ = load_tunes(corpus_files(name), limit=int(rest[0]) + 1 if rest else 1)
        return tunes[int(rest[0]) if rest else 0][1]
    if os.path.exists(primer):
        tunes = parse_file(primer)
        if not tunes:
            raise UserError(f"{primer}: no tune with at least 8 notes in the file")
        return tunes[0][1]
    if "K:" in primer or primer.startswith("X:"):
        from music21 import converter

        try:
            return score_events(converter.parseData(primer, format="abc"))
        except Exception as err:
            raise UserError(f"--primer: not valid ABC ({err})") from None
    raise UserError("--primer: give corpus:NAME[:INDEX], a MIDI/MusicXML/ABC file, or an ABC string (with K:)")


def write_outputs(prefix, tokens, title):
    """PREFIX.abc, .mid, .svg (the engraved score), .wav (audio) and .png (piano roll).

    Returns ([paths written], [one-line reasons for what was not]): the score
    and the audio need verovio and FluidSynth with a soundfont (apps.music.render).
    The same tokens give the same bytes.
    """
    from music21 import converter

    from datasets.music import to_abc

    from .render import engrave, synthesise

    abc = to_abc(tokens, title)
    parent = os.path.dirname(os.path.abspath(prefix))
    os.makedirs(parent, exist_ok=True)
    atomic_write_text(f"{prefix}.abc", abc)
    score = converter.parseData(abc, format="abc")
    score.write("midi", fp=f"{prefix}.mid")
    written, missing = [f"{prefix}.abc", f"{prefix}.mid"], []
    for path, reason in ((f"{prefix}.svg", engrave(abc, f"{prefix}.svg")),
                         (f"{prefix}.wav", synthesise(f"{prefix}.mid", f"{prefix}.wav"))):
        (missing if reason else written).append(reason or path)
    _write_piano_roll(f"{prefix}.png", tokens, title)
    return written + [f"{prefix}.png"], missing


def _write_piano_roll(path, tokens, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from datasets.music import parse_token

    fig, ax = plt.subplots(figsize=(12, 3))
    time = 0.0
    for text in tokens:
        pitch, duration = parse_token(text)
        if pitch != "r":
            ax.add_patch(plt.Rectangle((time, pitch - 0.4), duration, 0.8, color="tab:blue"))
        time += duration
    pitches = [parse_token(t)[0] for t in tokens if not t.startswith("r_")] or [60]
    ax.set_xlim(0, max(time, 1))
    ax.set_ylim(min(pitches) - 2, max(pitches) + 2)
    ax.set_xlabel("quarter notes")
    ax.set_ylabel("MIDI pitch")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


def generate_tune(trained, length, seed=0, temperature=1.0, top_k=None, primer=None):
    """The primer's events (those the model knows) followed by `length` sampled events."""
    from .data import START, UNKNOWN
    from .model import sample

    vocabulary, index = trained.vocabularies["events"], trained.encoders
    primer_events = [t for t in primer_tokens(primer, trained.options) if t in index]
    ids = sample(trained.model, [index[START]] + [index[t] for t in primer_events], length, seed, temperature,
                 top_k, forbidden=(0, index[START], index.get(UNKNOWN, 0)))
    return primer_events + [vocabulary[i] for i in ids]
