"""CoNLL column files for sequence tagging, tag schemes, and tf.data batches.

A batch is ({"words": [B, T] int64, "chars": [B, T, C] int64}, tags [B, T] int32)
with 0 the padding id of words and chars, and -1 the padding tag.
"""

import re

from .errors import DataError
from .files import read_lines
from .text import lower

TAG_RE = re.compile(r"^(?:O|[BI]-[^\s]+)$")
DOCSTART = "-DOCSTART-"


def read_conll(path, tag_column=-1, token_prefix=""):
    """Sentences of a CoNLL file: a list of (tokens, tags, line of the first token).

    Token in the first column, tag in `tag_column` (default: the last).
    `-DOCSTART-` lines and blank or whitespace-only lines separate sentences.
    Every token line must have as many columns as the file's first one, and
    every tag must be O, B-TYPE or I-TYPE.
    """
    sentences = list(iter_conll(path, tag_column, token_prefix))
    if not sentences:
        raise DataError(path, "no sentences in the file")
    return sentences


def iter_conll(path, tag_column=-1, token_prefix=""):
    """The sentences of `read_conll`, yielded as they are read (a file without any yields nothing)."""
    tokens, tags = [], []
    width = None
    start = None
    for number, line in read_lines(path):
        if not line.strip():
            if tokens:
                yield tokens, tags, start
                tokens, tags = [], []
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        fields = [f for f in fields if f != ""] if "\t" not in line else [f.strip() for f in fields]
        if fields[0] == DOCSTART:
            continue
        if width is None:
            width = len(fields)
            if width < 2:
                raise DataError(path, "expected at least two columns (token and tag)", number)
            if not -width <= tag_column < width:
                raise DataError(path, f"--tag-column {tag_column} does not exist: lines have {width} columns", number)
        if len(fields) != width:
            raise DataError(path, f"expected {width} columns, found {len(fields)}", number)
        token, tag = fields[0], fields[tag_column]
        if not TAG_RE.match(tag):
            raise DataError(path, f"tag {tag!r} is not O, B-TYPE or I-TYPE", number)
        if token_prefix:
            if not token.startswith(token_prefix):
                raise DataError(path, f"token {token!r} lacks the prefix {token_prefix!r}", number)
            token = token[len(token_prefix):]
        if not tokens:
            start = number
        tokens.append(token)
        tags.append(tag)
    if tokens:
        yield tokens, tags, start


def to_iob2(tags):
    """IOB1 (or IOB2) -> IOB2: an I-X that starts an entity becomes B-X."""
    out = []
    previous = "O"
    for tag in tags:
        if tag.startswith("I-") and (previous == "O" or previous[2:] != tag[2:]):
            tag = "B-" + tag[2:]
        out.append(tag)
        previous = tag
    return out


def is_iob2(sentences):
    return all(to_iob2(tags) == tags for _, tags, _ in sentences)


def tokenize_text(texts):
    """Raw sentences [N] tf.string -> tokens, ragged [N, (T)] tf.string.

    Used by predict and inside the exported graph. Splits on whitespace and
    cuts common punctuation off words ("Granger." -> "Granger", "."), like the
    tokenisation of CoNLL's files. Invalid UTF-8 bytes become U+FFFD.
    """
    import tensorflow as tf

    texts = tf.strings.unicode_transcode(texts, "UTF-8", "UTF-8", errors="replace")
    texts = tf.strings.regex_replace(texts, r"([,;:!?\"()\[\]{}]|\.\s|\.$|'s\b)", r" \1 ")
    return tf.strings.split(tf.strings.strip(texts))


def normalize_words(tokens):
    """Word-vocabulary form of tokens: lower case, every digit 0 (case is left to the chars)."""
    import tensorflow as tf

    return tf.strings.regex_replace(lower(tokens), r"\d", "0")


def build_vocabularies(sentences):
    """(words by frequency, characters by frequency) of training sentences."""
    import collections

    import numpy as np
    import tensorflow as tf

    tokens = [t for tokens, _, _ in sentences for t in tokens]
    words = collections.Counter(
        w.decode("utf-8") for w in np.asarray(normalize_words(tf.constant(tokens))).tolist()
    )
    chars = collections.Counter(c for t in tokens for c in t)
    by_frequency = lambda counter: [k for k, _ in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))]  # noqa
    return by_frequency(words), by_frequency(chars)


def make_lookups(words, chars):
    """StringLookups: id 0 is padding (""), 1 out-of-vocabulary."""
    import keras

    def lookup(vocabulary):
        layer = keras.layers.StringLookup(vocabulary=[v for v in vocabulary if v], mask_token="",
                                          num_oov_indices=1)
        layer.build((None,))
        return layer

    return lookup(words), lookup(chars)


def encode_tokens(tokens, word_lookup, char_lookup, max_chars):
    """Ragged tokens [B, (T)] tf.string -> (words [B, T] int64, chars [B, T, C] int64), 0 padded."""
    import tensorflow as tf

    words = word_lookup(normalize_words(tokens))
    chars = tf.strings.unicode_split(tokens, "UTF-8", errors="replace")[:, :, :max_chars]
    char_ids = char_lookup(chars)
    return words.to_tensor(), char_ids.to_tensor()


def make_dataset(sentences, tag_index, word_lookup, char_lookup, *, batch_size, max_chars, shuffle, seed,
                 in_order=False):
    """Bucketed batches of ({"words", "chars"}, tags [B, T] with -1 padding); with `in_order`, batches of
    consecutive sentences in the order given (give them sorted by length to waste little padding)."""
    import tensorflow as tf

    from .batching import bucket_boundaries, bucketed

    tokens = tf.ragged.constant([s[0] for s in sentences], dtype=tf.string)
    tags = tf.ragged.constant([[tag_index[t] for t in s[1]] for s in sentences], dtype=tf.int32)

    def encode(tokens, tags):
        words, chars = encode_tokens(tokens, word_lookup, char_lookup, max_chars)
        return words, chars, tags.to_tensor(-1), tokens.row_lengths()

    ds = tf.data.Dataset.from_tensor_slices((tokens, tags)).batch(512).map(encode).unbatch()
    ds = ds.map(lambda w, c, t, n: ({"words": w[:n], "chars": c[:n]}, t[:n])).cache()
    padding = ({"words": tf.constant(0, tf.int64), "chars": tf.constant(0, tf.int64)}, tf.constant(-1, tf.int32))
    if in_order:
        return ds.padded_batch(batch_size, padding_values=padding).prefetch(tf.data.AUTOTUNE)
    longest = max(len(s[0]) for s in sentences)
    return bucketed(ds, lambda x, t: tf.shape(t)[0], bounds=bucket_boundaries(max(longest, 2), first=8),
                    batch_size=batch_size, shuffle=shuffle, seed=seed, size=len(sentences),
                    padding_values=padding, description=f"encoding {len(sentences):,} sentences")


def streamed_sentences(path, tag_index, tag_column=-1, token_prefix="", keep=lambda key: True):
    """Yield (tokens [n] str, IOB2 tag ids [n] int) of the kept sentences of one file.

    `keep(key)` sees the sentence's tokens joined by spaces (the carve's key).
    A tag the training sample never had is a DataError naming its line.
    """
    for tokens, tags, line in iter_conll(path, tag_column, token_prefix):
        if not keep(" ".join(tokens)):
            continue
        ids = []
        for offset, tag in enumerate(to_iob2(tags)):
            if tag not in tag_index:
                raise DataError(path, f"entity type of {tag!r} never occurs in the training sample", line + offset)
            ids.append(tag_index[tag])
        yield tokens, ids


def make_streaming_dataset(files, generate, word_lookup, char_lookup, *, batch_size, max_chars, shuffle_buffer,
                           seed, sharded_by_file=False):
    """The batches of `make_dataset`, from `generate(path)` (e.g. streamed_sentences) over `files`; nothing cached.

    `shuffle_buffer` sentences are shuffled at a time (0: file order); buckets
    up to 128 tokens (longer sentences share the last one). The number of
    batches is not known in advance.
    """
    import tensorflow as tf

    from .batching import bucket_boundaries, bucket_by_length
    from .streaming import from_generators, sharded_by_file as files_only

    signature = (tf.TensorSpec([None], tf.string), tf.TensorSpec([None], tf.int32))
    ds = from_generators(files, generate, signature, shuffle_seed=seed if shuffle_buffer else None)

    def encode(tokens, tags):
        words, chars = encode_tokens(tokens, word_lookup, char_lookup, max_chars)
        return words, chars, tags.to_tensor(-1), tokens.row_lengths()

    ds = ds.ragged_batch(256).map(encode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).unbatch()
    ds = ds.map(lambda w, c, t, n: ({"words": w[:n], "chars": c[:n]}, t[:n]))
    if shuffle_buffer:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    padding = ({"words": tf.constant(0, tf.int64), "chars": tf.constant(0, tf.int64)}, tf.constant(-1, tf.int32))
    ds = bucket_by_length(ds, lambda x, t: tf.shape(t)[0], bucket_boundaries(128, first=8), batch_size, padding)
    return (files_only(ds) if sharded_by_file else ds).prefetch(tf.data.AUTOTUNE)
