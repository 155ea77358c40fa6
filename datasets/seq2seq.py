"""Tokens and batches for encoder-decoder models.

Ids: 0 padding, 1 out-of-vocabulary, 2 start, 3 end, then tokens by frequency.
A batch is ({"source": [B, S], "target_in": [B, T]}, target_out [B, T]), int64,
with target_in = [start, y1..yn] and target_out = [y1..yn, end].
"""

import collections
import itertools
import unicodedata

import tensorflow as tf

from .text import lower

START, END = "[START]", "[END]"
START_ID, END_ID = 2, 3


def split_tokens(texts, level, lowercase=True):
    """Strings [N] -> ragged tokens [N, (T)]: characters, or words with punctuation split off.

    Accents survive: a letter typed as base + combining mark is composed first
    (see compose_accents), and lower-casing is Unicode-aware ("¿Dónde" -> "¿",
    "dónde"). Invalid UTF-8 bytes become U+FFFD.
    """
    texts = compose_accents(texts)
    if lowercase:
        texts = lower(texts)
    if level == "char":
        return tf.strings.unicode_split(texts, "UTF-8")
    texts = tf.strings.regex_replace(texts, r"([^\p{L}\p{N}\s'])", r" \1 ")
    return tf.strings.split(tf.strings.strip(texts))


def _composition_table():
    """{base * 0x110000 + combining mark: composed code point} for every letter that NFC composes with one mark."""
    table = {}
    for base in itertools.chain(range(0x41, 0x250), range(0x370, 0x500)):
        for mark in range(0x300, 0x370):
            composed = unicodedata.normalize("NFC", chr(base) + chr(mark))
            if len(composed) == 1:
                table[base * 0x110000 + mark] = ord(composed)
    return table


_COMPOSITION = _composition_table()


def compose_accents(texts):
    """Strings [N] -> strings [N] with each Latin, Greek or Cyrillic letter + combining mark composed, as NFC does.

    In the graph (TensorFlow has no NFC op of its own), so an exported model
    treats "cafe\u0301" like "café" whatever the client sends. Covers one mark
    per letter, which is how accents are typed decomposed; invalid UTF-8 bytes
    become U+FFFD.
    """
    chars = tf.strings.unicode_decode(texts, "UTF-8", errors="replace")
    flat, rows = tf.cast(chars.flat_values, tf.int64), chars.value_rowids()
    following = tf.concat([flat, [0]], axis=0)[1:]
    last_in_row = tf.not_equal(rows, tf.concat([rows, [-1]], axis=0)[1:])
    # Sorted constants and a binary search rather than a hash table: no resource for an export to track.
    keys = tf.constant(sorted(_COMPOSITION), tf.int64)
    values = tf.constant([_COMPOSITION[k] for k in sorted(_COMPOSITION)], tf.int64)
    query = flat * 0x110000 + following
    at = tf.minimum(tf.searchsorted(keys, query), len(_COMPOSITION) - 1)
    composes = tf.logical_and(tf.equal(tf.gather(keys, at), query), tf.logical_not(last_in_row))
    absorbed = tf.concat([[False], composes], axis=0)[:-1]  # the mark now inside its letter
    flat = tf.where(composes, tf.gather(values, at), flat)
    kept = tf.ragged.boolean_mask(chars.with_flat_values(tf.cast(flat, tf.int32)),
                                  chars.with_flat_values(tf.logical_not(absorbed)))
    return tf.strings.unicode_encode(kept, "UTF-8")


def build_vocabulary(texts, level, max_tokens, lowercase=True):
    counts = collections.Counter(
        t.decode("utf-8") for row in split_tokens(tf.constant(texts), level, lowercase).to_list() for t in row
    )
    ranked = [t for t, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if t not in (START, END, "")]
    return [START, END] + ranked[: max(0, max_tokens - 4)]


def make_lookup(vocabulary):
    import keras

    lookup = keras.layers.StringLookup(vocabulary=vocabulary, mask_token="", num_oov_indices=1)
    lookup.build((None,))
    return lookup


def encode(texts, lookup, level, max_length, lowercase=True):
    """Ragged ids [N, (T)], at most max_length tokens."""
    return lookup(split_tokens(texts, level, lowercase))[:, :max_length]


def ids_to_text(ids, vocabulary, level):
    """Token ids [B, L] -> strings [B]: up to the first end id, without padding or start.

    Word level glues punctuation back on ("hello , world" -> "hello, world").
    Used by translate, evaluate and inside the exported graph alike.
    """
    ids = tf.convert_to_tensor(ids, tf.int64)
    after_end = tf.cumsum(tf.cast(tf.equal(ids, END_ID), tf.int32), axis=1) > 0
    keep = tf.logical_and(tf.logical_or(ids > END_ID, tf.equal(ids, 1)), tf.logical_not(after_end))
    tokens = tf.ragged.boolean_mask(tf.gather(tf.constant(vocabulary), ids), keep)
    if level == "char":
        return tf.strings.reduce_join(tokens, axis=1)
    text = tf.strings.reduce_join(tokens, axis=1, separator=" ")
    text = tf.strings.regex_replace(text, r" ([.,!?;:)'])", r"\1")
    return tf.strings.regex_replace(text, r"([¿¡('])\s", r"\1")


def _pair_ids(source_lookup, target_lookup, max_length):
    """A function: (sources [B], targets [B]) -> padded ids and lengths of source, target_in, target_out."""

    def to_ids(source, target):
        src = encode(source, source_lookup["lookup"], source_lookup["level"], max_length)
        tgt = encode(target, target_lookup["lookup"], target_lookup["level"], max_length - 1,
                     target_lookup.get("lowercase", True))
        n = tf.shape(tgt.row_lengths())[0]
        starts = tf.fill([n, 1], tf.constant(START_ID, tf.int64))
        ends = tf.fill([n, 1], tf.constant(END_ID, tf.int64))
        target_in = tf.concat([starts, tgt], axis=1)
        target_out = tf.concat([tgt, ends], axis=1)
        return (src.to_tensor(), src.row_lengths(), target_in.to_tensor(), target_out.to_tensor(),
                target_in.row_lengths())

    return to_ids


def _as_inputs(source, source_length, target_in, target_out, target_length):
    """One pair's padded ids cut to their lengths: ({"source" [S], "target_in" [T]}, target_out [T])."""
    return {"source": source[:tf.maximum(source_length, 1)], "target_in": target_in[:target_length]}, \
        target_out[:target_length]


def make_dataset(pairs, source_lookup, target_lookup, *, max_length, batch_size, shuffle, seed):
    """Bucketed batches of ({"source", "target_in"}, target_out), their number known; encoded once, cached."""
    from .batching import bucket_boundaries, bucketed

    sources = tf.constant([s for s, _ in pairs])
    targets = tf.constant([t for _, t in pairs])
    ds = tf.data.Dataset.from_tensor_slices((sources, targets)).batch(1024).map(
        _pair_ids(source_lookup, target_lookup, max_length)).unbatch()
    ds = ds.map(_as_inputs).cache()
    return bucketed(ds, lambda x, y: tf.shape(x["source"])[0], bounds=bucket_boundaries(max_length, first=8),
                    batch_size=batch_size, shuffle=shuffle, seed=seed, size=len(pairs),
                    description=f"encoding {len(pairs):,} sentence pairs")


def make_streaming_dataset(files, generate, source_lookup, target_lookup, *, max_length, batch_size,
                           shuffle_buffer, seed, sharded_by_file=False):
    """The batches of `make_dataset`, from `generate(path)` ((source, target) strings) over `files`; nothing cached.

    `shuffle_buffer` pairs are shuffled at a time (0: file order). The number
    of batches is not known in advance.
    """
    from .batching import bucket_boundaries, bucket_by_length
    from .streaming import from_generators, sharded_by_file as files_only

    signature = (tf.TensorSpec([], tf.string), tf.TensorSpec([], tf.string))
    ds = from_generators(files, generate, signature, shuffle_seed=seed if shuffle_buffer else None)
    ds = ds.batch(256).map(_pair_ids(source_lookup, target_lookup, max_length), num_parallel_calls=tf.data.AUTOTUNE,
                           deterministic=True).unbatch().map(_as_inputs)
    if shuffle_buffer:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    ds = bucket_by_length(ds, lambda x, y: tf.shape(x["source"])[0], bucket_boundaries(max_length, first=8),
                          batch_size)
    return (files_only(ds) if sharded_by_file else ds).prefetch(tf.data.AUTOTUNE)
