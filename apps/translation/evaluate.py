"""Translations and their scores: pure functions, no printing."""

from apps.common.errors import UserError


def check_beam_size(beam_size, target_lookup):
    if beam_size > target_lookup.vocabulary_size():
        raise UserError(f"--beam-size {beam_size} is larger than the target vocabulary "
                        f"({target_lookup.vocabulary_size()} tokens)")


def translate_texts(texts, trained, beam_size=1, length_penalty=1.0, batch_size=256):
    """Translations of texts, by the same graph functions the export serves."""
    import tensorflow as tf

    from datasets.progress import progress

    from .serving import make_translate_fn

    source_lookup, target_lookup = trained.encoders
    check_beam_size(beam_size, target_lookup)
    translate = make_translate_fn(trained.model, source_lookup, target_lookup.get_vocabulary(),
                                  trained.options.level, trained.options.max_length, beam_size, length_penalty)
    starts = progress(range(0, len(texts), batch_size), description="translating", unit="batches")
    return [t.decode("utf-8") for i in starts
            for t in translate(tf.constant(texts[i:i + batch_size]))["translation"].numpy()]


def score_translations(sources, references, hypotheses, level):
    """sacrebleu BLEU and chrF (detokenised, cased, sacrebleu's defaults) and exact match."""
    import sacrebleu

    normalise = (lambda s: s.lower()) if level == "word" else (lambda s: s)
    return {
        "pairs": len(sources),
        "bleu": sacrebleu.corpus_bleu(hypotheses, [references]).score,
        "chrf": sacrebleu.corpus_chrf(hypotheses, [references]).score,
        "exact_match": sum(normalise(h) == normalise(r) for h, r in zip(hypotheses, references)) / len(sources),
        "examples": [{"source": s, "reference": r, "translation": h}
                     for s, r, h in list(zip(sources, references, hypotheses))[:10]],
    }


def evaluate_run(trained, test_file=None, dataset=None, size=10000, validation=False, beam_size=1,
                 length_penalty=1.0):
    """Scores of a TrainedRun on a pairs file, new generated dates, a tfds test split or its validation pairs."""
    from .data import load_evaluation_data, load_training_data

    options = trained.options
    if validation and (test_file or dataset):
        raise UserError("--validation takes no --test-file or --dataset")
    pairs = load_training_data(options)[1] if validation else load_evaluation_data(options, test_file, dataset, size)
    sources, references = [s for s, _ in pairs], [t for _, t in pairs]
    hypotheses = translate_texts(sources, trained, beam_size, length_penalty)
    scores = score_translations(sources, references, hypotheses, options.level)
    return {**{k: scores[k] for k in ("pairs", "bleu", "chrf", "exact_match")}, "beam_size": beam_size,
            "data": "validation" if validation else test_file or f"{dataset or options.dataset}",
            "examples": scores["examples"]}


def report(result):
    from apps.common.cli import format_table

    return format_table([(k, f"{result[k]:.4f}" if k == "exact_match" else f"{result[k]:.2f}")
                         for k in ("bleu", "chrf", "exact_match")], ["metric", "value"])


def first_text_attention(trained, text):
    """(source tokens, translated tokens, attention weights [target, source]) of greedy decoding of `text`."""
    import numpy as np
    import tensorflow as tf

    from datasets.seq2seq import END_ID, encode, split_tokens

    from .model import Decoder, greedy_decode

    options, (source_lookup, target_lookup) = trained.options, trained.encoders
    source = encode(tf.constant([text]), source_lookup, options.level, options.max_length).to_tensor()
    if source.shape[1] == 0:
        raise UserError("--plot-attention needs a text with at least one token")
    tokens, attention = greedy_decode(Decoder(trained.model), source, options.max_length)
    ids = list(np.asarray(tokens)[0])
    length = ids.index(END_ID) + 1 if END_ID in ids else len([i for i in ids if i])
    vocabulary = target_lookup.get_vocabulary()
    source_tokens = [t.decode("utf-8") for t in split_tokens(tf.constant([text]), options.level)
                     .to_list()[0][: source.shape[1]]]
    return source_tokens, [vocabulary[i] for i in ids[:length]], np.asarray(attention)[0, :length]


def save_attention_plot(path, source_tokens, target_tokens, weights):
    """A labelled heatmap PNG of attention weights [target, source]."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(4, 0.4 * len(source_tokens)), max(3, 0.4 * len(target_tokens))))
    ax.imshow(weights, cmap="viridis", aspect="auto", vmin=0, vmax=1)
    ax.set_xticks(range(len(source_tokens)), [t if t.strip() else "␣" for t in source_tokens], rotation=90)
    ax.set_yticks(range(len(target_tokens)), target_tokens)
    ax.set_xlabel("source")
    ax.set_ylabel("translation")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
