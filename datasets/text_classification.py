"""Labelled texts for many-to-one classification: files, tfds, vectorising, tf.data.

Shapes: a batch is (token ids [B, T] int64, labels [B] float32), T the longest
text in the batch (at most `max_length`), 0 the padding id.
"""

import tensorflow as tf
import keras

from .batching import bucket_boundaries, bucket_by_length, bucketed
from .errors import DataError
from .files import read_rows
from .tfds_loader import load_tfds
from .text import lower

BINARY_NAMES = {("0", "1"): ["negative", "positive"], ("neg", "pos"): ["negative", "positive"]}


def _label_text(value):
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_labelled_texts(path, text_column="text", label_column="label"):
    """(texts, raw labels as strings, line numbers) from a JSONL/CSV/TSV file."""
    texts, labels, lines = [], [], []
    for number, text, label in _checked_rows(path, text_column, label_column):
        texts.append(text)
        labels.append(label)
        lines.append(number)
    return texts, labels, lines


def _checked_rows(path, text_column, label_column):
    """Yield (line number, text, raw label) of a labelled file as it is read; a bad row is a DataError."""
    for number, (text, label) in read_rows(path, [text_column, label_column]):
        if not isinstance(text, str):
            raise DataError(path, f"the text must be a string, got {type(text).__name__}", number)
        label = _label_text(label)
        if not label:
            raise DataError(path, "empty label", number)
        yield number, text, label


def label_vocabulary(raw_labels, path):
    """The two raw label values in a stable order (the negative class first)."""
    values = sorted(set(raw_labels))
    if len(values) != 2:
        raise DataError(path, f"expected exactly two labels for binary classification, found {values[:10]}")
    return values


def encode_labels(raw_labels, vocabulary, path, lines):
    index = {value: i for i, value in enumerate(vocabulary)}
    encoded = []
    for label, line in zip(raw_labels, lines):
        if label not in index:
            raise DataError(path, f"label {label!r} is not one of the known labels {vocabulary}", line)
        encoded.append(float(index[label]))
    return encoded


def display_names(vocabulary):
    return BINARY_NAMES.get(tuple(vocabulary), list(vocabulary))


def load_tfds_texts(name, split, data_dir=None):
    """(texts, raw labels) of a tfds text-classification split, e.g. imdb_reviews."""
    ds = load_tfds(name, split, data_dir=data_dir)
    texts, labels = [], []
    for text, label in (tfds_label(*example) for example in ds.as_numpy_iterator()):
        texts.append(text)
        labels.append(label)
    return texts, labels


@keras.saving.register_keras_serializable(package="seqapps")
def standardize(texts):
    """Lower-case, drop HTML line breaks and split punctuation off words.

    Invalid UTF-8 bytes become U+FFFD first, so that no input can fail here.
    Runs inside the exported graph: clients send raw strings.
    """
    texts = tf.strings.unicode_transcode(texts, "UTF-8", "UTF-8", errors="replace")
    texts = lower(texts)
    texts = tf.strings.regex_replace(texts, r"<br\s*/?>", " ")
    # Punctuation becomes its own token: "great!" -> "great !" keeps the "!".
    return tf.strings.regex_replace(texts, r"([^\p{L}\p{N}\s'])", r" \1 ")


def make_vectorizer(max_tokens, vocabulary=None):
    """A TextVectorization giving ragged int64 ids; 0 is padding, 1 out-of-vocabulary."""
    vectorizer = keras.layers.TextVectorization(
        max_tokens=max_tokens, standardize=standardize, split="whitespace",
        output_mode="int", ragged=True, vocabulary=vocabulary,
    )
    if vocabulary is not None:
        vectorizer.build((None,))  # ExportArchive refuses unbuilt layers
    return vectorizer


def adapt_vectorizer(vectorizer, texts, batch_size=1024):
    """Fit the vectorizer's vocabulary on `texts`, with a bar (texts and rate) on a terminal."""
    from .progress import progress

    def batches():
        with progress(description=f"counting the words of {len(texts):,} texts", unit="texts",
                      total=len(texts)) as bar:
            for start in range(0, len(texts), batch_size):
                chunk = texts[start:start + batch_size]
                bar.update(len(chunk))
                yield chunk

    vectorizer.adapt(tf.data.Dataset.from_generator(batches, output_signature=tf.TensorSpec([None], tf.string)))
    return vectorizer


def token_ids(vectorizer, texts, max_length):
    """Ragged ids [B, (T)] cut to `max_length`; an empty text becomes one OOV id (1).

    Keeping at least one step means no batch is ever zero steps wide.
    """
    ids = vectorizer(texts)[:, :max_length]
    width = tf.maximum(ids.bounding_shape(axis=1), 1)
    dense = ids.to_tensor(default_value=1, shape=tf.stack([tf.shape(texts, out_type=tf.int64)[0], width]))
    return tf.RaggedTensor.from_tensor(dense, lengths=tf.maximum(ids.row_lengths(), 1))


def _dense_rows(ids, labels):
    # padded_batch takes dense elements only: unbatch rows with their lengths.
    return ids.to_tensor(), ids.row_lengths(), labels


def make_dataset(texts, labels, vectorizer, *, batch_size, max_length, shuffle, seed):
    """tf.data of bucketed (ids [B, T], labels [B]) batches, their number known; vectorised once and cached."""
    ds = tf.data.Dataset.from_tensor_slices((tf.constant(texts, tf.string), tf.constant(labels, tf.float32)))
    ds = ds.batch(1024).map(lambda t, y: _dense_rows(token_ids(vectorizer, t, max_length), y),
                            num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.unbatch().map(lambda ids, length, y: (ids[:length], y)).cache()
    return bucketed(ds, lambda ids, _: tf.shape(ids)[0], bounds=bucket_boundaries(max_length),
                    batch_size=batch_size, shuffle=shuffle, seed=seed, size=len(texts),
                    description=f"vectorising {len(texts):,} texts")


# Streaming: the same examples read as a stream (datasets.streaming), for corpora of any size.

def labelled_rows(path, text_column, label_column):
    """Yield (text, raw label) of a labelled file as it is read."""
    for _, text, label in _checked_rows(path, text_column, label_column):
        yield text, label


def streamed_examples(path, text_column, label_column, vocabulary, keep=lambda text: True):
    """Yield (text, label as 0./1.) of one file; a label outside `vocabulary` is a DataError naming its line."""
    index = {value: i for i, value in enumerate(vocabulary)}
    for number, text, label in _checked_rows(path, text_column, label_column):
        if not keep(text):
            continue
        if label not in index:
            raise DataError(path, f"label {label!r} is not one of the known labels {vocabulary}", number)
        yield text, float(index[label])


def make_streaming_dataset(files, columns, labels, vectorizer, *, batch_size, max_length, shuffle_buffer, seed,
                           keep=lambda text: True, sharded_by_file=False):
    """tf.data of bucketed (ids [B, T], labels [B]) batches read from `files` as they stream; nothing cached.

    `keep(text)` picks the examples (a side of the validation carve);
    `shuffle_buffer` examples are shuffled at a time (0: file order), and the
    files too when there are several. `sharded_by_file`: `files` are this
    worker's share (datasets.streaming.shard_files), so tf.data's own sharding
    is switched off. The number of batches is not known in advance.
    """
    from .streaming import from_generators, sharded_by_file as files_only

    text_column, label_column = columns
    ds = from_generators(files, lambda path: streamed_examples(path, text_column, label_column, labels, keep),
                         (tf.TensorSpec([], tf.string), tf.TensorSpec([], tf.float32)),
                         shuffle_seed=seed if shuffle_buffer else None)
    ds = _streamed_batches(ds, vectorizer, batch_size=batch_size, max_length=max_length,
                           shuffle_buffer=shuffle_buffer, seed=seed)
    return (files_only(ds) if sharded_by_file else ds).prefetch(tf.data.AUTOTUNE)


def make_tfds_streaming_dataset(source, labels, vectorizer, *, batch_size, max_length, shuffle_buffer, seed):
    """The batches of `make_streaming_dataset`, read from a datasets.streaming.TfdsSource (its side of a tfds
    split, from the split's own file shards); labels are the tfds class ids as text, placed by `labels`."""
    label_ids = keras.layers.StringLookup(vocabulary=list(labels), num_oov_indices=0)  # an unknown label fails
    ds = source.examples(lambda text, label: text).map(
        lambda text, label: (text, tf.cast(label_ids(tf.strings.as_string(label)), tf.float32)))
    ds = _streamed_batches(ds, vectorizer, batch_size=batch_size, max_length=max_length,
                           shuffle_buffer=shuffle_buffer, seed=seed)
    return ds.prefetch(tf.data.AUTOTUNE)


def tfds_label(text, label):
    """(text, raw label) of a supervised tfds example as NumPy, as `load_tfds_texts` gives them."""
    return text.decode("utf-8", errors="replace"), _label_text(int(label))


def _streamed_batches(ds, vectorizer, *, batch_size, max_length, shuffle_buffer, seed):
    """Bucketed (ids [B, T], labels [B]) batches of a stream of (text [], label []) examples."""
    ds = ds.batch(256).map(lambda t, y: _dense_rows(token_ids(vectorizer, t, max_length), y),
                           num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.unbatch().map(lambda ids, length, y: (ids[:length], y))
    if shuffle_buffer:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    return bucket_by_length(ds, lambda ids, _: tf.shape(ids)[0], bucket_boundaries(max_length), batch_size, None)
