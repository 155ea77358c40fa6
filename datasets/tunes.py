"""Tunes as folk-rnn-style tokens: meter, mode, notes with durations, and the bar lines of the source.

A tune is ["M:6/8", "K:dor", note and bar tokens ...], moved so that its tonic
is C (Sturm et al. 2016 do the same): the model learns one "D dorian" rather
than twelve, and the player picks the key at generation. Notes are "pitch_ql"
(MIDI pitch after the move, duration in quarter notes quantised to
`datasets.music.DURATIONS`) or "r_ql" for rests, as in the event
representation; bar lines are tokens: "|" (a bar), "||" (a section's end),
"|:" and ":|" (repeats). A pickup bar stays short, as in the source.

`to_abc` writes tokens back as ABC 2.1 in any tonic, with a full header, the
key signature of the mode and bar-scoped accidentals that both ABC readers and
music21 read alike; `whole_bar_share`, `parts` and `in_scale_share` measure a tune's shape.
"""

from .music import parse_token, quantise, token

MODES = {"major": "maj", "minor": "min", "dorian": "dor", "mixolydian": "mix", "lydian": "lyd",
         "phrygian": "phr", "locrian": "loc", "ionian": "maj", "aeolian": "min"}
# Semitones above the tonic of each mode's scale.
SCALES = {"maj": (0, 2, 4, 5, 7, 9, 11), "min": (0, 2, 3, 5, 7, 8, 10), "dor": (0, 2, 3, 5, 7, 9, 10),
          "mix": (0, 2, 4, 5, 7, 9, 10), "lyd": (0, 2, 4, 6, 7, 9, 11), "phr": (0, 1, 3, 5, 7, 8, 10),
          "loc": (0, 1, 3, 5, 6, 8, 10)}
BARS = ("|", "||", "|:", ":|")
TONICS = {"C": 0, "C#": 1, "Db": 1, "D": 2, "D#": 3, "Eb": 3, "E": 4, "F": 5, "F#": 6, "Gb": 6, "G": 7,
          "G#": 8, "Ab": 8, "A": 9, "A#": 10, "Bb": 10, "B": 11}


def is_note(text):
    return "_" in text


def meter_of(tokens):
    return next((t[2:] for t in tokens if t.startswith("M:")), None)


def mode_of(tokens):
    return next((t[2:] for t in tokens if t.startswith("K:")), None)


def bar_length(meter):
    """Quarter notes in a bar of `meter` ("6/8" -> 3.0)."""
    beats, unit = meter.split("/")
    return 4.0 * int(beats) / int(unit)


def _first(score, classes):
    return next(iter(score.recurse().getElementsByClass(classes)), None)


def _barline(barline, default):
    """Our token of a music21 barline (None: an ordinary one)."""
    if barline is None:
        return default
    if getattr(barline, "direction", None) == "start":
        return "|:"
    if getattr(barline, "direction", None) == "end":
        return ":|"
    return "||" if barline.type in ("double", "final", "light-light", "light-heavy") else default


def tune_tokens(score):
    """Tokens of one music21 score's top line, moved to tonic C; None without a meter or a key."""
    from music21 import chord, key, note, stream

    meter, signature = _first(score, "TimeSignature"), _first(score, ("Key", "KeySignature"))
    if meter is None or signature is None:
        return None
    found = signature if isinstance(signature, key.Key) else signature.asKey("major")
    mode = MODES.get(found.mode, "maj")
    shift = -(found.tonic.pitchClass if found.tonic.pitchClass <= 6 else found.tonic.pitchClass - 12)
    part = score.parts[0] if score.parts else score
    if not part.getElementsByClass(stream.Measure):  # a file without bar lines: bars made by the meter
        part = part.makeMeasures()
    tokens = [f"M:{meter.ratioString}", f"K:{mode}"]
    for measure in part.getElementsByClass(stream.Measure):
        if _barline(measure.leftBarline, None) == "|:":
            tokens.append("|:")
        for element in measure.notesAndRests:
            if float(element.quarterLength) <= 0:
                continue  # grace notes
            duration = quantise(element.quarterLength)
            if isinstance(element, note.Rest):
                tokens.append(token("r", duration))
            else:
                pitch = max(p.midi for p in element.pitches) if isinstance(element, chord.Chord) else element.pitch.midi
                tokens.append(token(pitch + shift, duration))
        tokens.append(_barline(measure.rightBarline, "|"))
    return tokens if sum(is_note(t) for t in tokens) >= 8 else None


NAMES = ("C", "D", "E", "F", "G", "A", "B")
NATURAL = (0, 2, 4, 5, 7, 9, 11)


def key_signature(tonic, mode):
    """{letter: alteration in semitones} of the key signature of tonic + mode (e.g. D maj: F and C +1)."""
    pitch_classes = {(TONICS[tonic] + step) % 12 for step in SCALES[mode]}
    letter = NAMES.index(tonic[0])
    signature = {}
    for degree in range(7):  # one letter per scale degree, from the tonic's letter
        name = NAMES[(letter + degree) % 7]
        target = (TONICS[tonic] + SCALES[mode][degree]) % 12
        alteration = (target - NATURAL[NAMES.index(name)] + 6) % 12 - 6
        signature[name] = alteration
    assert {(NATURAL[NAMES.index(n)] + a) % 12 for n, a in signature.items()} == pitch_classes
    return signature


def _spell(pitch, signature, flats):
    """(letter, alteration, octave) of a MIDI pitch: the key's own letter when in the key, else a sharp or flat."""
    for name, alteration in signature.items():
        if (NATURAL[NAMES.index(name)] + alteration) % 12 == pitch % 12:
            return name, alteration, (pitch - alteration) // 12
    step = pitch % 12
    if step in NATURAL:
        return NAMES[NATURAL.index(step)], 0, pitch // 12
    name = NAMES[NATURAL.index((step + 1) % 12)] if flats else NAMES[NATURAL.index(step - 1)]
    alteration = -1 if flats else 1
    return name, alteration, (pitch - alteration) // 12


def abc_note(pitch, signature, in_force, flats=False):
    """ABC of a MIDI pitch under a key `signature`, given the accidentals `in_force` in its bar (updated)."""
    name, alteration, octave = _spell(pitch, signature, flats)
    letter = name.lower() + "'" * (octave - 6) if octave >= 6 else name + "," * (5 - octave)
    # An accidental lasts to the end of its bar in ABC; music21 reads each note against the key signature
    # alone. Writing one wherever the note differs from the signature or from what the bar has in force
    # makes both readings agree.
    written = ""
    if alteration != signature[name] or in_force.get(letter, signature[name]) != alteration:
        written = {-1: "_", 0: "=", 1: "^"}[alteration]
    in_force[letter] = alteration
    return written + letter


def to_abc(tokens, title="Generated", tonic=None, number=1):
    """ABC of a tune's tokens (header X, T, M, L, K), moved from C to `tonic` (default: the mode's usual one).

    Notes use L:1/16; a note that overruns its bar is written as it is (the
    bar's length is what `whole_bar_share` measures, not something the writer hides).
    """
    meter, mode = meter_of(tokens) or "4/4", mode_of(tokens) or "maj"
    tonic = tonic or DEFAULT_TONICS.get(mode, "C")
    shift = TONICS[tonic] if TONICS[tonic] <= 6 else TONICS[tonic] - 12
    signature = key_signature(tonic, mode)
    flats = any(a < 0 for a in signature.values())
    body, in_force = [], {}
    for text in tokens:
        if text in BARS:
            body.append(f" {text} " if text != "|:" else f"{text} ")
            in_force = {}
        elif is_note(text):
            pitch, duration = parse_token(text)
            units = int(round(duration * 4))
            suffix = "" if units == 1 else str(units)
            written = "z" if pitch == "r" else abc_note(pitch + shift, signature, in_force, flats)
            body.append(written + suffix + " ")
    lines, line, bars_in_line = [], "", 0
    for piece in body:
        line += piece
        if piece.strip() in BARS and piece.strip() != "|:":
            bars_in_line += 1
            if bars_in_line == 4:
                lines.append(line.strip())
                line, bars_in_line = "", 0
    if line.strip():
        lines.append(line.strip())
    header = [f"X:{number}", f"T:{title}", f"M:{meter}", "L:1/16", f"K:{tonic}{'' if mode == 'maj' else mode}"]
    return "\n".join(header + [" ".join(line.split()) for line in lines]) + "\n"


# The tonic a generated tune is written in when none is asked for: the commonest in Irish dance music.
DEFAULT_TONICS = {"maj": "D", "min": "E", "dor": "E", "mix": "D", "lyd": "F", "phr": "E", "loc": "B"}


def in_scale_share(tokens):
    """Share of a tune's notes (rests aside) in the scale of its mode (tonic C)."""
    scale = set(SCALES.get(mode_of(tokens) or "maj", SCALES["maj"]))
    pitches = [parse_token(t)[0] for t in tokens if is_note(t) and not t.startswith("r_")]
    return sum(p % 12 in scale for p in pitches) / len(pitches) if pitches else 0.0


def _bars_with_edges(tokens):
    """[(quarter notes, the bar line before it, the bar line after it)] of each bar."""
    bars, quarters, notes, before = [], 0.0, 0, None
    for text in tokens:
        if is_note(text):
            quarters += parse_token(text)[1]
            notes += 1
        elif text in BARS:
            if notes:
                bars.append((quarters, before, text))
            quarters, notes, before = 0.0, 0, text
    if notes:
        bars.append((quarters, before, None))
    return bars


SECTION_EDGES = ("||", ":|", "|:", None)


def whole_bar_share(tokens):
    """(bars whose notes fill the meter exactly, bars counted).

    A bar may be short where a part begins or ends (the first and last bars,
    and bars next to "||", "|:" or ":|"): pickups and the bars that complete
    them, as O'Neill's and most dance tunes write them. Any other short bar,
    and any overfull bar, counts as not whole.
    """
    meter = meter_of(tokens)
    if meter is None:
        return 0, 0
    length = bar_length(meter)
    full = counted = 0
    for quarters, before, after in _bars_with_edges(tokens):
        if quarters < length - 1e-6 and (before in SECTION_EDGES or after in SECTION_EDGES):
            continue
        counted += 1
        full += abs(quarters - length) < 1e-6
    return full, counted


def parts(tokens):
    """Full bars in each part of a tune: parts end at "||" or ":|" (and at the end of the tune)."""
    meter = meter_of(tokens)
    if meter is None:
        return []
    length, counts, count, quarters = bar_length(meter), [], 0, 0.0
    for text in tokens:
        if is_note(text):
            quarters += parse_token(text)[1]
        elif text in BARS:
            count += abs(quarters - length) < 1e-6
            quarters = 0.0
            if text in ("||", ":|"):
                counts.append(count)
                count = 0
    count += abs(quarters - length) < 1e-6
    return counts + [count] if count else counts


def two_parts_of_eight_bars(tokens):
    """Two parts of 8 bars each: 7 or 8 full bars in each (a pickup and the part's short last bar make one)."""
    counts = parts(tokens)
    return len(counts) == 2 and all(n in (7, 8) for n in counts)
