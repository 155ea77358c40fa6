"""Text for language models: one example per line (names, words, titles) or running text, as tokens.

Tokens are characters (`level="char"`) or whitespace-separated words
(`level="word"`). Ids: 0 padding, 1 unknown (a token not in the vocabulary:
it is scored, never dropped), 2 the end mark (which also starts every
example), then the vocabulary by frequency. Shapes: `examples_to_windows`
gives inputs and targets [N, T] int32, 0 after the end.
"""

import collections
import json
import os

import numpy as np

from .errors import DataError
from .files import read_lines

PAD, UNKNOWN, END = "", "[UNK]", "[END]"
UNKNOWN_ID, END_ID = 1, 2  # padding is 0
SPECIAL = (PAD, UNKNOWN, END)
CENSUS_FILES = {"first-names": ("dist.male.first", "dist.female.first"), "surnames": ("dist.all.last",)}


def read_examples(path, lowercase=False):
    """Non-empty lines of a UTF-8 file (gzip accepted), as they are (or lower-cased); errors name file and line."""
    examples = [line.lower() if lowercase else line for _, line in read_lines(path) if line.strip()]
    if not examples:
        raise DataError(path, "no examples in the file (one per line expected)")
    return examples


def read_text(path, lowercase=False):
    """The whole file as one string, line ends kept as "\n"."""
    text = "".join(line + "\n" for _, line in read_lines(path))
    if not text.strip():
        raise DataError(path, "the file holds no text")
    return text.lower() if lowercase else text


def census_names(corpus, lowercase=False):
    """The US Census name lists shipped by the `names` package (MIT): first names or surnames.

    The lists are upper case ("JAMES"); names come out capitalised ("James"),
    or lower case with `lowercase`. A name in both first-name lists appears once.
    """
    if corpus not in CENSUS_FILES:
        raise DataError(f"--corpus {corpus}", f"unknown corpus; choose one of {sorted(CENSUS_FILES)}")
    try:
        import names
    except ImportError:
        raise DataError(f"--corpus {corpus}", "the `names` package is not installed (pip install names)") from None
    folder = os.path.dirname(names.__file__)
    seen = {}
    for filename in CENSUS_FILES[corpus]:
        for _, line in read_lines(os.path.join(folder, filename)):
            if line.split():
                name = line.split()[0].capitalize()
                seen.setdefault(name.lower() if lowercase else name, None)
    return list(seen)


def tokens_of(text, level):
    """Characters of a text, or its whitespace-separated words."""
    return text.split() if level == "word" else list(text)


def build_vocabulary(texts, level, max_tokens=None):
    """SPECIAL + the tokens of `texts` by frequency (ties alphabetically), at most max_tokens in all."""
    counts = collections.Counter(t for text in texts for t in tokens_of(text, level))
    ordered = sorted(counts, key=lambda t: (-counts[t], t))
    limit = None if max_tokens is None else max(0, max_tokens - len(SPECIAL))
    return list(SPECIAL) + ordered[:limit]


def escape(token):
    """A token as one line of a vocabulary file (a newline character is a token of running text)."""
    return json.dumps(token, ensure_ascii=False)[1:-1]


def unescape(line):
    return json.loads(f'"{line}"')


def encode(text, index, level):
    """Token ids of a text; unknown tokens are UNKNOWN_ID."""
    return [index.get(t, UNKNOWN_ID) for t in tokens_of(text, level)]


def examples_to_windows(examples, index, level, max_length):
    """(inputs, targets) [N, T] int32 of one example per row: [END] + tokens -> tokens + [END].

    T = the longest example + 1, at most max_length + 1: longer examples are cut
    to max_length tokens.
    """
    rows = [encode(text, index, level)[:max_length] for text in examples]
    width = max(len(r) for r in rows) + 1
    inputs, targets = np.zeros((len(rows), width), "int32"), np.zeros((len(rows), width), "int32")
    for i, ids in enumerate(rows):
        inputs[i, :len(ids) + 1] = [END_ID] + ids
        targets[i, :len(ids) + 1] = ids + [END_ID]
    return inputs, targets


def text_to_windows(text, index, level, window):
    """(inputs, targets) [N, window] int32 of running text cut every `window` tokens, 0 padded."""
    ids = np.array(encode(text, index, level), "int32")
    if len(ids) < 2:
        raise DataError("text", "fewer than two tokens")
    starts = range(0, len(ids) - 1, window)
    inputs, targets = np.zeros((len(starts), window), "int32"), np.zeros((len(starts), window), "int32")
    for row, start in enumerate(starts):
        chunk = ids[start:start + window + 1]
        inputs[row, :len(chunk) - 1], targets[row, :len(chunk) - 1] = chunk[:-1], chunk[1:]
    return inputs, targets


# --pipeline stream: examples or windows read from the files as training goes, in bounded memory.

def iter_examples(path, lowercase=False):
    """The non-empty lines of a file, one at a time (read_examples without holding the file)."""
    for _, line in read_lines(path):
        if line.strip():
            yield line.lower() if lowercase else line


def iter_windows(path, level, window, lowercase=False):
    """Running text cut into pieces of window + 1 tokens, one at a time; each piece starts on the last token
    of the one before, as `text_to_windows` cuts (the last piece may be shorter).

    A piece comes out as text (words joined by one space at word level), so that
    it is the key of the validation carve and encodes back to the same tokens.
    """
    pending = []
    for _, line in read_lines(path):
        pending.extend(tokens_of(line.lower() + "\n" if lowercase else line + "\n", level))
        while len(pending) > window:
            yield _joined(pending[:window + 1], level)
            pending = pending[window:]
    if len(pending) > 1:
        yield _joined(pending, level)


def _joined(tokens, level):
    return " ".join(tokens) if level == "word" else "".join(tokens)


def make_streaming_dataset(files, read, vocabulary, *, level, mode, max_length, batch_size, shuffle_buffer, seed,
                           keep=lambda example: True, sharded_by_file=False):
    """tf.data of (inputs [B, T], targets [B, T]) int32 batches read from `files` as they stream; nothing cached.

    `read(path)` yields a file's examples (`iter_examples`) or windows
    (`iter_windows`), `keep(example)` picks a side of the validation carve.
    With --mode lines a row is [END] + tokens -> tokens + [END] (at most
    max_length tokens), as `examples_to_windows` makes them; with --mode text
    a window's tokens shifted by one, as `text_to_windows`. Rows of similar
    length are batched together and padded with 0.
    """
    import tensorflow as tf

    from .batching import bucket_boundaries, bucket_by_length
    from .streaming import from_generators, sharded_by_file as files_only

    index = {token: i for i, token in enumerate(vocabulary)}

    def rows(path):
        for example in read(path):
            if keep(example):
                ids = encode(example, index, level)
                yield ([END_ID] + ids[:max_length] + [END_ID]) if mode == "lines" else ids

    ds = from_generators(files, rows, tf.TensorSpec([None], tf.int32), shuffle_seed=seed if shuffle_buffer else None)
    ds = ds.map(lambda ids: (ids[:-1], ids[1:]))
    if shuffle_buffer:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    ds = bucket_by_length(ds, lambda x, _: tf.shape(x)[0], bucket_boundaries(max_length + 1), batch_size)
    return (files_only(ds) if sharded_by_file else ds).prefetch(tf.data.AUTOTUNE)
