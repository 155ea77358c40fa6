"""Monophonic note events from music21's corpus or the user's MIDI, MusicXML and ABC files.

An event is (pitch, duration): pitch a MIDI number or "r" for a rest, duration
in quarter notes, quantised to DURATIONS. Chords give their highest note (the
melody). Events as tokens: "60_1.0", "r_0.5". Parsing is slow, so parsed
tunes are cached on disk, keyed by the file's content.
"""

import hashlib
import json
import os
import pathlib

from .errors import DataError

DURATIONS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)
COLLECTIONS = ("oneills1850", "ryansMammoth", "essenFolksong", "bach")
SUFFIXES = (".abc", ".mid", ".midi", ".xml", ".musicxml", ".mxl")
PARSER_VERSION = 2  # part of the cache key: bump when events change meaning (2: tied notes are one event)


def quantise(quarter_length):
    return min(DURATIONS, key=lambda d: abs(d - float(quarter_length)))


def token(pitch, duration):
    return f"{pitch}_{duration}"


def parse_token(text):
    pitch, duration = text.split("_")
    return ("r" if pitch == "r" else int(pitch)), float(duration)


def score_events(score):
    """Tokens of one music21 score's top line; grace notes (no duration) are skipped, tied notes are one event."""
    from music21 import chord, note

    events, tied_length = [], None
    for element in score.flatten().notesAndRests:
        if float(element.quarterLength) <= 0:
            continue
        tie = element.tie.type if getattr(element, "tie", None) is not None else None
        if tie in ("continue", "stop") and tied_length is not None and events:
            tied_length += float(element.quarterLength)
            events[-1] = token(parse_token(events[-1])[0], quantise(tied_length))
            tied_length = tied_length if tie == "continue" else None
            continue
        tied_length = float(element.quarterLength) if tie == "start" else None
        duration = quantise(element.quarterLength)
        if isinstance(element, note.Rest):
            if events and events[-1].startswith("r_"):
                continue  # consecutive rests: keep the first
            events.append(token("r", duration))
        elif isinstance(element, chord.Chord):
            events.append(token(max(p.midi for p in element.pitches), duration))
        else:
            events.append(token(element.pitch.midi, duration))
    return events


REPRESENTATIONS = ("abc", "events")


def parse_file(path, representation="events"):
    """[(title, tokens)] of every tune in a file (an ABC file can hold many).

    representation "events": `score_events` (notes only); "abc": meter, mode,
    notes and bar lines, moved to tonic C (`datasets.tunes.tune_tokens`).
    """
    from music21 import converter, stream

    from .tunes import tune_tokens

    parsed = converter.parse(str(path))
    scores = parsed.scores if isinstance(parsed, stream.Opus) else [parsed]
    tunes = []
    for i, score in enumerate(scores):
        title = (score.metadata.title if score.metadata and score.metadata.title else f"{pathlib.Path(path).name}#{i}")
        tokens = tune_tokens(score) if representation == "abc" else score_events(score)
        if tokens and sum("_" in t for t in tokens) >= 8:
            tunes.append((title, tokens))
    return tunes


def corpus_files(collection):
    """The music21 corpus files of one collection, in a stable order."""
    from music21 import corpus

    if collection not in COLLECTIONS:
        raise DataError(f"--corpus {collection}", f"unknown collection; choose one of {list(COLLECTIONS)}")
    paths = [p for p in corpus.getPaths() if pathlib.Path(p).parts[-2] == collection
             or (collection == "bach" and f"{os.sep}bach{os.sep}" in str(p))]
    return sorted(str(p) for p in paths)


def folder_files(data_dir):
    if not os.path.isdir(data_dir):
        raise DataError(data_dir, "no such directory")
    files = sorted(str(p) for p in pathlib.Path(data_dir).rglob("*") if p.suffix.lower() in SUFFIXES)
    if not files:
        raise DataError(data_dir, f"no music files ({', '.join(SUFFIXES)})")
    return files


def default_cache_dir():
    return os.environ.get("SEQAPPS_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "seqapps", "music"))


def _content_key(path, representation):
    suffix = f"v{PARSER_VERSION}" + ("" if representation == "events" else f"-{representation}")
    return hashlib.sha256(pathlib.Path(path).read_bytes() + suffix.encode()).hexdigest()


def _parse_uncached(path_and_representation):
    """(tunes, failure reason or None) of one file; run in a worker process."""
    path, representation = path_and_representation
    try:
        return parse_file(path, representation), None
    except Exception as err:  # music21 raises many kinds on bad files
        return [], f"{type(err).__name__}: {str(err)[:120]}"


FEW_FILES = 16  # fewer are parsed in this process: starting the pool costs more than it saves


def _parsed_in_order(paths, workers, representation):
    """(path, (tunes, failure)) for each path, in order, parsed by `workers` processes when more than one and
    there are at least FEW_FILES paths."""
    jobs = [(path, representation) for path in paths]
    if workers <= 1 or len(paths) < FEW_FILES:
        for job in jobs:
            yield job[0], _parse_uncached(job)
        return
    import concurrent.futures
    import multiprocessing

    # forkserver: the workers are forked from a fresh server process, not from this one, whose TensorFlow
    # threads may hold locks that a forked child would wait on forever (a plain fork pool hung a test worker).
    # Like spawn, it imports the script that started it (not `python -m apps.music`'s __main__): a script
    # calling this needs the usual `if __name__ == "__main__":` guard.
    context = multiprocessing.get_context("forkserver")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        try:
            yield from zip(paths, pool.map(_parse_uncached, jobs))
        finally:
            pool.shutdown(cancel_futures=True)


def cache_tunes(files, cache_dir=None, progress=None, workers=None, representation="events"):
    """Parse the files not yet cached into the cache, holding one file's tunes at a time (--pipeline stream).

    Returns the failures [(file, reason)]; `progress(n)` is called after each
    file with the tunes it gave (0 for a cached one, read later).
    """
    cache = pathlib.Path(cache_dir or default_cache_dir())
    cache.mkdir(parents=True, exist_ok=True)
    keys = {path: _cache_path(cache, path, representation) for path in files}
    uncached = [path for path in files if not keys[path].exists()]
    failures = []
    for _ in range(len(files) - len(uncached)):
        if progress:
            progress(0)
    for path, (file_tunes, failure) in _parsed_in_order(uncached, workers or os.cpu_count() or 1, representation):
        if failure:
            failures.append((path, failure))
        else:
            _write_cache(keys[path], file_tunes)
        if progress:
            progress(len(file_tunes))
    return failures


def cached_tunes(path, cache_dir=None, representation="events"):
    """[(title, tokens)] of a file `cache_tunes` parsed; [] for one that failed to parse."""
    key = _cache_path(pathlib.Path(cache_dir or default_cache_dir()), path, representation)
    return [tuple(t) for t in json.loads(key.read_text())] if key.exists() else []


def _cache_path(cache, path, representation):
    return cache / f"{_content_key(path, representation)}.json"


def _write_cache(key, file_tunes):
    tmp = key.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(file_tunes))
    os.replace(tmp, key)


def load_tunes(files, cache_dir=None, limit=None, progress=None, workers=None, representation="events"):
    """(tunes [(title, tokens)], failures [(file, reason)]) from files, parsed once and cached.

    `representation`: see `parse_file`; each is cached separately.

    A file that fails to parse is skipped and reported, never fatal. `limit`
    stops after that many tunes. Files not yet cached are parsed by `workers`
    processes (default: one per core; 1 with a `limit`, which usually needs
    few files). `progress(n)` is called after each file with the tunes it gave.
    """
    cache = pathlib.Path(cache_dir or default_cache_dir())
    cache.mkdir(parents=True, exist_ok=True)
    workers = workers or (1 if limit is not None else os.cpu_count() or 1)
    keys = {path: _cache_path(cache, path, representation) for path in files}
    uncached = [path for path in files if not keys[path].exists()]
    parsed = _parsed_in_order(uncached, workers, representation)
    uncached = set(uncached)
    tunes, failures = [], []
    for path in files:
        if limit is not None and len(tunes) >= limit:
            break
        if path not in uncached:
            file_tunes = [tuple(t) for t in json.loads(keys[path].read_text())]
        else:
            _, (file_tunes, failure) = next(parsed)
            if failure:
                failures.append((path, failure))
                continue
            _write_cache(keys[path], file_tunes)
        tunes.extend(file_tunes)
        if progress:
            progress(len(file_tunes))
    parsed.close()
    if limit is not None:
        tunes = tunes[:limit]
    return tunes, failures


def transpose(tokens, semitones, low=36, high=96):
    """The tune moved by `semitones`, or None if a note would leave [low, high]."""
    out = []
    for text in tokens:
        pitch, duration = parse_token(text)
        if pitch != "r":
            pitch += semitones
            if not low <= pitch <= high:
                return None
        out.append(token(pitch, duration))
    return out


UNITS_PER_BAR = 16  # M:4/4 with L:1/16


def to_abc(tokens, title="Generated"):
    """ABC notation of tokens in bars of 4/4 (L:1/16, K:C); a note longer than its bar's rest is tied across."""
    from .tunes import abc_note, key_signature

    c_major = key_signature("C", "maj")
    bars, bar, in_force, filled = [], [], {}, 0
    for text in tokens:
        pitch, duration = parse_token(text)
        remaining = int(round(duration * 4))
        while remaining:
            length = min(remaining, UNITS_PER_BAR - filled)
            remaining -= length
            suffix = "" if length == 1 else str(length)
            if pitch == "r":
                bar.append(f"z{suffix}")
            else:
                bar.append(abc_note(pitch, c_major, in_force) + suffix + ("-" if remaining else ""))
            filled += length
            if filled == UNITS_PER_BAR:
                bars.append(" ".join(bar))
                bar, in_force, filled = [], {}, 0
    if bar:
        bars.append(" ".join(bar))
    lines = [" | ".join(bars[i:i + 4]) + " |" for i in range(0, len(bars), 4)]
    return "X:1\nT:{}\nM:4/4\nL:1/16\nK:C\n{}\n".format(title, "\n".join(lines) or "z16 |")
