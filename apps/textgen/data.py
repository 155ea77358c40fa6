"""Where the text generator's examples come from, and its pipelines. Pure functions."""

from apps.common.app import StreamedTrainingData, TrainingData, streamed_sides
from apps.common.errors import UserError
from datasets import textgen
from datasets.splits import carve
from datasets.streaming import StreamedSource, expand_files


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
        if options["level"] == "word":  # not inside a word: its two halves would be two made-up words
            cut = next((i for i in range(cut, len(text)) if text[i].isspace()), cut)
        return [text[:cut]], [text[cut:]]  # the end of the text: no window is in both
    _check_level(options)
    examples = textgen.read_examples(options["train_file"], options["lowercase"]) if options["train_file"] \
        else textgen.census_names(options["corpus"], options["lowercase"])
    if options["valid_file"]:
        return examples, textgen.read_examples(options["valid_file"], options["lowercase"])
    return carve(examples, options["valid_fraction"], options["seed"], _source(options), "examples")


def read_training_data(options):
    """TrainingData of lists of examples (or one text each), or of two StreamedSources and a bounded sample
    with --pipeline stream."""
    if options.get("pipeline") == "stream":
        _check_level(options)
        what = "windows" if options["mode"] == "text" else "examples"
        train, valid, sample = streamed_sides(options, lambda example: example, _reader(options), what)
        return StreamedTrainingData(train, valid, sample=sample)
    train, valid = load_examples(options)
    return TrainingData(train, valid)


def _check_level(options):
    if options["mode"] == "lines" and options["level"] == "word":
        raise UserError("--level word is for --mode text; --mode lines models characters")


def _reader(options):
    """path -> its examples (--mode lines) or windows of window + 1 tokens (--mode text), streamed."""
    if options["mode"] == "text":
        return lambda path: textgen.iter_windows(path, options["level"], options["window"], options["lowercase"])
    return lambda path: textgen.iter_examples(path, options["lowercase"])


def build_vocabularies(options, data):
    """{"tokens": the specials, then the training tokens by frequency}, escaped one per line.

    With --pipeline stream the tokens are counted on the bounded sample: a
    rarer character the sample lacks is scored as unknown, never dropped.
    """
    texts = data.sample if isinstance(data, StreamedTrainingData) else data.train
    tokens = textgen.build_vocabulary(texts, options.level,
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
    from datasets.batching import window_batches

    if isinstance(data.train, StreamedSource):
        return _streaming_datasets(options, vocabulary, data)
    x, y = windows(options, vocabulary, data.train)
    vx, vy = windows(options, vocabulary, data.valid)
    what = "windows" if options.mode == "text" else "examples"
    summary = (f"{len(x)} training and {len(vx)} validation {what}; {len(vocabulary)} {options.level} tokens "
               f"(padding, unknown and the end mark included)")
    return (*window_batches((x, y), (vx, vy), options.batch_size, options.seed), summary)


def _streaming_datasets(options, vocabulary, data):
    from datasets.streaming import is_carved, shard_files, share_summary

    batches = _batching(options)
    files, by_file = shard_files(data.train.files)
    train = textgen.make_streaming_dataset(files, _reader(options), vocabulary, keep=data.train.keep,
                                           sharded_by_file=by_file, shuffle_buffer=options.shuffle_buffer, **batches)
    valid = textgen.make_streaming_dataset(data.valid.files, _reader(options), vocabulary, keep=data.valid.keep,
                                           shuffle_buffer=0, **batches)
    what = "windows" if options.mode == "text" else "examples"
    carved = f"carved by a hash of the {what[:-1]}" if is_carved(data.train, data.valid) else "as given"
    summary = (f"{share_summary(files, data.train.files, by_file)}; validation {carved}; {len(vocabulary)} "
               f"{options.level} tokens from {len(data.sample):,} sampled {what} (padding, unknown and the end "
               "mark included)")
    return train, valid, summary


def evaluation_batches(options, vocabulary, test_file=None):
    """(inputs [B, T], targets [B, T]) batches of `test_file`, or of the run's validation data; streamed with
    --pipeline stream, so that neither the training files nor a large test file are held."""
    from apps.common.evaluation import as_batches

    if options.get("pipeline") == "stream":
        if test_file:
            valid = StreamedSource(expand_files(test_file), lambda example: True)
        else:
            valid = _stream_carve(options)[1]
        return textgen.make_streaming_dataset(valid.files, _reader(options), vocabulary, keep=valid.keep,
                                              shuffle_buffer=0, **_batching(options))
    if test_file:
        examples = [textgen.read_text(test_file, options.lowercase)] if options.mode == "text" \
            else textgen.read_examples(test_file, options.lowercase)
    else:
        examples = load_examples(options)[1]
    return as_batches(*windows(options, vocabulary, examples))


def _batching(options):
    return dict(level=options.level, mode=options.mode, batch_size=options.batch_size, seed=options.seed,
                max_length=options.window if options.mode == "text" else options.max_length)


def _stream_carve(options):
    from datasets.streaming import carved_sources

    return carved_sources(options["train_file"], options["valid_file"], options["valid_fraction"], options["seed"])


def training_copies(options, texts):
    """The texts among `texts` that are training examples (--mode lines), to mark samples that copy one.

    The training data is read once and only the texts asked about are held, so
    this works on a streamed corpus of any size.
    """
    if options["mode"] != "lines":
        return set()
    wanted = set(texts)
    if options.get("pipeline") == "stream":
        train, _ = _stream_carve(options)
        return {example for path in train.files for example in textgen.iter_examples(path, options["lowercase"])
                if example in wanted and train.keep(example)}
    return wanted & set(load_examples(options)[0])
