"""Tunes out of a trained model: primers in; ABC, MIDI, engraved score, audio and a piano roll out. No click."""

import os

from apps.common.errors import UserError
from apps.common.rundir import atomic_write_text
from datasets.music import parse_token
from datasets.tunes import BARS, TONICS, bar_length, is_note, meter_of, mode_of


def primer_tokens(primer, options):
    """Tokens of the primer in the run's representation: none, 'corpus:NAME[:INDEX]', a file path, or ABC text."""
    from datasets.music import corpus_files, load_tunes, parse_file, score_events
    from datasets.tunes import tune_tokens

    representation = options["representation"]
    if not primer:
        return []
    if primer.startswith("corpus:"):
        _, name, *rest = primer.split(":")
        tunes, _ = load_tunes(corpus_files(name), limit=int(rest[0]) + 1 if rest else 1,
                              representation=representation)
        return tunes[int(rest[0]) if rest else 0][1]
    if os.path.exists(primer):
        tunes = parse_file(primer, representation)
        if not tunes:
            raise UserError(f"{primer}: no tune with at least 8 notes in the file")
        return tunes[0][1]
    if "K:" in primer or primer.startswith("X:"):
        from music21 import converter

        try:
            score = converter.parseData(primer, format="abc")
        except Exception as err:
            raise UserError(f"--primer: not valid ABC ({err})") from None
        tokens = tune_tokens(score) if representation == "abc" else score_events(score)
        if not tokens:
            raise UserError("--primer: the ABC needs a meter (M:), a key (K:) and at least 8 notes")
        return tokens
    raise UserError("--primer: give corpus:NAME[:INDEX], a MIDI/MusicXML/ABC file, or an ABC string (with K:)")


def write_outputs(prefix, abc, tokens, title):
    """PREFIX.abc, .mid, .svg (the engraved score), .wav (audio) and .png (piano roll) of a tune.

    Returns ([paths written], [one-line reasons for what was not]): the score
    and the audio need verovio and FluidSynth with a soundfont (apps.music.render).
    The same tune gives the same bytes.
    """
    from .render import engrave, synthesise

    notes = [t for t in tokens if "_" in t]  # "pitch_duration" and "r_duration"; not bar lines, meter, mode
    parent = os.path.dirname(os.path.abspath(prefix))
    os.makedirs(parent, exist_ok=True)
    atomic_write_text(f"{prefix}.abc", abc)
    _write_midi(f"{prefix}.mid", notes)
    written, missing = [f"{prefix}.abc", f"{prefix}.mid"], []
    for path, reason in ((f"{prefix}.svg", engrave(abc, f"{prefix}.svg")),
                         (f"{prefix}.wav", synthesise(f"{prefix}.mid", f"{prefix}.wav"))):
        (missing if reason else written).append(reason or path)
    _write_piano_roll(f"{prefix}.png", notes, title)
    return written + [f"{prefix}.png"], missing


def _write_midi(path, notes):
    """A MIDI file of note tokens at 120 quarter notes per minute, straight from the tokens.

    Not through music21's reading of the ABC: music21 9 fails to write MIDI for
    an ABC tune whose overfull bar is followed by a short one, which a sampled
    tune may have.
    """
    from music21 import note, stream, tempo

    line = stream.Stream([tempo.MetronomeMark(number=120)])
    for text in notes:
        pitch, duration = parse_token(text)
        line.append(note.Rest(quarterLength=duration) if pitch == "r" else note.Note(pitch, quarterLength=duration))
    line.write("midi", fp=path)


def _write_piano_roll(path, tokens, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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


KEY_PATTERN = r"^([A-Ga-g][#b]?)(maj|min|m|dor|mix|lyd|phr|loc|ion|aeo)?$"
MODE_NAMES = {None: "maj", "maj": "maj", "ion": "maj", "min": "min", "m": "min", "aeo": "min", "dor": "dor",
              "mix": "mix", "lyd": "lyd", "phr": "phr", "loc": "loc"}


def parse_key(text):
    """("D", "mix") of "Dmix"; "Em" -> ("E", "min"); "G" -> ("G", "maj")."""
    import re

    match = re.match(KEY_PATTERN, text.strip(), flags=re.IGNORECASE)
    if not match:
        raise UserError(f"--key {text!r}: give a tonic and a mode, e.g. D, Em, Ador, Gmix")
    tonic = match.group(1)[0].upper() + match.group(1)[1:]
    if tonic not in TONICS:
        raise UserError(f"--key {text!r}: tonic {tonic} is not one of {', '.join(TONICS)}")
    return tonic, MODE_NAMES[match.group(2).lower() if match.group(2) else None]


def generate_tune(trained, length, seed=0, temperature=1.0, top_k=None, primer=None, meter=None, key=None,
                  title="Generated", free_bars=False):
    """(ABC text, tokens) of a sampled tune: the primer's tokens (those the model knows), then samples.

    The tokens are the run's representation (abc: meter, mode, notes, bar lines in tonic C; no [END]).
    """
    from datasets import music

    from .data import END, START, UNKNOWN
    from .model import sample

    vocabulary, index = trained.vocabularies["events"], trained.encoders
    forbidden = (0, index[START], index.get(UNKNOWN, 0))
    abc_run = trained.options.representation == "abc"
    if not abc_run and (meter or key):
        raise UserError("--meter and --key need a run trained with --representation abc")
    if primer and (meter or key):
        raise UserError("--primer sets the meter and key itself: give either --primer or --meter/--key")
    primer_tokens_known = [t for t in primer_tokens(primer, trained.options) if t in index and t != END]
    if not abc_run:
        ids = sample(trained.model, [index[START]] + [index[t] for t in primer_tokens_known], length, seed,
                     temperature, top_k, forbidden=forbidden)
        tokens = primer_tokens_known + [vocabulary[i] for i in ids]
        return music.to_abc(tokens, title), tokens
    from datasets import tunes

    tonic, head = None, primer_tokens_known
    if meter or key:
        head, tonic = _forced_head(trained, index, meter, key, seed, temperature, forbidden)
    grammar = None if free_bars else WholeBars(vocabulary, head)
    ids = sample(trained.model, [index[START]] + [index[t] for t in head], length, seed, temperature, top_k,
                 forbidden=forbidden, stop_id=index.get(END), allowed=grammar)
    tokens = [t for t in head + [vocabulary[i] for i in ids] if t != END]
    return tunes.to_abc(tokens, title, tonic=tonic), tokens


def _forced_head(trained, index, meter, key, seed, temperature, forbidden):
    """(the tune's first tokens, its tonic): "M:.." and "K:.." as asked; a meter not asked for is sampled."""
    from .data import START
    from .model import sample

    known = sorted(t for t in index if t.startswith(("M:", "K:")))
    head, tonic = [], None
    if meter:
        if f"M:{meter}" not in index:
            raise UserError(f"--meter {meter}: the run knows {', '.join(t[2:] for t in known if t[0] == 'M')}")
        head.append(f"M:{meter}")
    if key:
        tonic, mode = parse_key(key)
        if f"K:{mode}" not in index:
            raise UserError(f"--key {key}: the run knows the modes {', '.join(t[2:] for t in known if t[0] == 'K')}")
        if not meter:  # the meter comes first in a tune: draw it among the meters
            meters = [index[t] for t in known if t.startswith("M:")]
            head.append(trained.vocabularies["events"][sample(trained.model, [index[START]], 1, seed, temperature,
                                                              forbidden=forbidden, allowed_first=meters)[0]])
        head.append(f"K:{mode}")
    return head, tonic


class WholeBars:
    """A grammar for sampling abc tunes whose bars fill their meter: which token ids may come next.

    First a meter, then a mode; then a note only where it fits in what is left of the
    bar; an ordinary bar line only when the bar is full; a short bar only as a
    pickup (the first bar) or to close a part ("||" or ":|"); the end only
    right after a bar line. What the model would choose among those is left
    to it: this shapes the sampling, not the model (`generate --free-bars`
    samples without it).
    """

    def __init__(self, vocabulary, head):
        from .data import END

        self.vocabulary, self.head = vocabulary, list(head)
        self.durations = {i: parse_token(t)[1] for i, t in enumerate(vocabulary) if "_" in t}
        self.bars = {t: i for i, t in enumerate(vocabulary) if t in BARS}
        self.meters = [i for i, t in enumerate(vocabulary) if t.startswith("M:")]
        self.modes = [i for i, t in enumerate(vocabulary) if t.startswith("K:")]
        self.end = vocabulary.index(END) if END in vocabulary else None

    def __call__(self, generated):
        tokens = self.head + [self.vocabulary[i] for i in generated]
        meter = meter_of(tokens)
        if meter is None:  # a tune starts with its meter, then its mode: which ones is the model's choice
            return self.meters
        if mode_of(tokens) is None:
            return self.modes
        length, filled, bars_done, last = bar_length(meter), 0.0, 0, None
        for text in tokens:
            if is_note(text):
                filled += parse_token(text)[1]
            elif text in BARS:
                bars_done += filled > 0
                filled, last = 0.0, text
        room = length - filled + 1e-9
        notes = [i for i, d in self.durations.items() if d <= room]
        if filled == 0:
            closing = [self.bars["|:"]] if "|:" in self.bars and last != "|:" else []
            ending = [self.end] if self.end is not None and bars_done else []
            return notes + closing + ending
        if room <= 1e-6:  # the bar is full
            return list(self.bars.values())
        short = ["|", "|:"] if bars_done == 0 else ["||", ":|"]
        return notes + [self.bars[t] for t in short if t in self.bars]
