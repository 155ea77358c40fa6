"""Where the text generator's examples come from, and its pipelines. Pure functions."""

from apps.common.app import TrainingData
from apps.common.errors import UserError
from datasets import textgen
from datasets.splits import carve


def _source(options):
    return options["train_file"] or f"--corpus {options['corpus']}"


def load_examples(options):
    """(train, valid): lists of examples (--mode lines) or one text each (--mode text)."""
    if options["mode"] == "text":
        if not options["train_file"]:
            raise UserError("--mode text needs --train-file (running text)")
        text = textgen.read_text(options["train_file"], options["lowercase"])
        if options["valid_file"]:
            return [text], [textgen.read_text(options["valid_file"], options["lowercase"])]
        cut = len(text) - max(1, int(round(len(text) * options["valid_fraction"])))
        return [text[:cut]], [text[cut:]]  # the end of the text: no window is in both
    if options["level"] == "word":
        raise UserError("--level word is for --mode text; --mode lines models characters")
    examples = textgen.read_examples(options["train_file"], options["lowercase"]) if options["train_file"] \
        else textgen.census_names(options["corpus"], options["lowercase"])
    if options["valid_file"]:
        return examples, textgen.read_examples(options["valid_file"], options["lowercase"])
    return carve(examples, options["valid_fraction"], options["seed"], _source(options), "examples")


def read_training_data(options):
    train, valid = load_examples(options)
    return TrainingData(train, valid)


def build_vocabularies(options, data):
    """{"tokens": the specials, then the training tokens by frequency}, escaped one per line."""
    tokens = textgen.build_vocabulary(data.train, options.level,
                                      options.max_tokens if options.level == "word" else None)
    return {"tokens": [textgen.escape(t) for t in tokens]}


def make_encoders(options, vocabularies):
    """The vocabulary as a list of tokens (id -> token)."""
    return [textgen.unescape(line) for line in vocabularies["tokens"]]


def windows(options, vocabulary, examples):
    """(inputs, targets) [N, T] int32 of examples (--mode lines) or of a text (--mode text)."""
    index = {t: i for i, t in enumerate(vocabulary)}
    if options.mode == "text":
        return textgen.text_to_windows("".join(examples), index, options.level, options.window)
    return textgen.examples_to_windows(examples, index, options.level, options.max_length)


def make_datasets(options, vocabulary, data):
    """(train, validation, summary): batches of (inputs [B, T], targets [B, T])."""
    import tensorflow as tf

    x, y = windows(options, vocabulary, data.train)
    vx, vy = windows(options, vocabulary, data.valid)
    what = "windows" if options.mode == "text" else "examples"
    summary = (f"{len(x)} training and {len(vx)} validation {what}; {len(vocabulary)} {options.level} tokens "
               f"(padding, unknown and the end mark included)")
    train = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=options.seed) \
        .batch(options.batch_size).prefetch(tf.data.AUTOTUNE)
    return train, tf.data.Dataset.from_tensor_slices((vx, vy)).batch(options.batch_size), summary


def training_examples(options):
    """The run's training examples, to mark samples that copy one."""
    return set(load_examples(options)[0]) if options["mode"] == "lines" else set()
