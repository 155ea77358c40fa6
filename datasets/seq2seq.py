"""Tokens and batches for encoder-decoder models.

Ids: 0 padding, 1 out-of-vocabulary, 2 start, 3 end, then tokens by frequency.
A batch is ({"source": [B, S], "target_in": [B, T]}, target_out [B, T]), int64,
with target_in = [start, y1..yn] and target_out = [y1..yn, end].
"""

import collections

import tensorflow as tf

START, END = "[START]", "[END]"
START_ID, END_ID = 2, 3


def split_tokens(texts, level):
    """Strings [N] -> ragged tokens [N, (T)]: characters, or words with punctuation split off.

    Lower-cased with Unicode-aware case mapping, so accents survive
    ("¿Dónde" -> "¿", "dónde"). Invalid UTF-8 bytes become U+FFFD.
    """
    texts = tf.strings.unicode_transcode(texts, "UTF-8", "UTF-8", errors="replace")
    texts = tf.strings.lower(texts, encoding="utf-8")
    if level == "char":
        return tf.strings.unicode_split(texts, "UTF-8")
    texts = tf.strings.regex_replace(texts, r"([^\p{L}\p{N}\s'])", r" \1 ")
    return tf.strings.split(tf.strings.strip(texts))


def build_vocabulary(texts, level, max_tokens):
    counts = collections.Counter(
        t.decode("utf-8") for row in split_tokens(tf.constant(texts), level).to_list() for t in row
    )
    ranked = [t for t, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if t not in (START, END, "")]
    return [START, END] + ranked[: max(0, max_tokens - 4)]


def make_lookup(vocabulary):
    import keras

    lookup = keras.layers.StringLookup(vocabulary=vocabulary, mask_token="", num_oov_indices=1)
    lookup.build((None,))
    return lookup


def encode(texts, lookup, level, max_length):
    """Ragged ids [N, (T)], at most max_length tokens."""
    return lookup(split_tokens(texts, level))[:, :max_length]


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


def make_dataset(pairs, source_lookup, target_lookup, *, level, max_length, batch_size, shuffle, seed):
    from .text_classification import bucket_boundaries

    sources = tf.constant([s for s, _ in pairs])
    targets = tf.constant([t for _, t in pairs])

    def to_ids(source, target):
        src = encode(source, source_lookup["lookup"], source_lookup["level"], max_length)
        tgt = encode(target, target_lookup["lookup"], target_lookup["level"], max_length - 1)
        n = tf.shape(tgt.row_lengths())[0]
        starts = tf.fill([n, 1], tf.constant(START_ID, tf.int64))
        ends = tf.fill([n, 1], tf.constant(END_ID, tf.int64))
        target_in = tf.concat([starts, tgt], axis=1)
        target_out = tf.concat([tgt, ends], axis=1)
        return (src.to_tensor(), src.row_lengths(), target_in.to_tensor(), target_out.to_tensor(),
                target_in.row_lengths())

    ds = tf.data.Dataset.from_tensor_slices((sources, targets)).batch(1024).map(to_ids).unbatch()
    ds = ds.map(lambda s, sn, ti, to, tn: ({"source": s[:tf.maximum(sn, 1)], "target_in": ti[:tn]}, to[:tn]))
    ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(len(pairs), seed=seed, reshuffle_each_iteration=True)
    bounds = bucket_boundaries(max_length, first=8)
    ds = ds.bucket_by_sequence_length(lambda x, y: tf.shape(x["source"])[0], bucket_boundaries=bounds,
                                      bucket_batch_sizes=[batch_size] * (len(bounds) + 1))
    return ds.prefetch(tf.data.AUTOTUNE)
