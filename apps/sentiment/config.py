"""Every option of the sentiment app: default, type, range and help, declared once."""

import click

from apps.common.options import (
    CountOr, Option, Options, adversarial_options, data_options, pretrained_options, streaming_options,
    training_options,
)

APP = "sentiment"
CELLS = click.Choice(["rnn", "gru", "lstm"])
AUTO_PRETRAIN_EPOCHS = 4  # with adversarial training, the best start measured within issue 20's 45 minutes on IMDB
ADVERSARIAL_EPSILON = 0.02  # IMDB, bench/results/sentiment_imdb_runs.md: adversarial-002-pretrain-4-alone


OPTIONS = data_options(train_help="JSONL, CSV or TSV (optionally .gz).", dataset="imdb_reviews",
                       dataset_help="tensorflow-datasets name, used when no --train-file is given.",
                       valid_fraction=0.1, examples="texts") + streaming_options("texts") + Options(
    # data
    Option("text_column", "text", None, "Header name or JSON key, or a 0-based number for files without a header."),
    Option("label_column", "label"),
    # model
    Option("cell", "gru", CELLS),
    Option("units", 128, click.IntRange(min=1)),
    Option("layers", 1, click.IntRange(min=1)),
    Option("bidirectional", True, None, flag=True),
    Option("recurrent_branches", 1, click.IntRange(min=1),
           "Recurrent classifiers, each with its own embedding and seed, averaged with the n-gram bag."),
    Option("embedding_dim", 128, click.IntRange(min=1)),
    Option("dropout", 0.3, click.FloatRange(0, 1, max_open=True)),
    Option("max_tokens", 100000, click.IntRange(min=3), "Vocabulary size, padding and OOV included."),
    Option("max_length", 800, click.IntRange(min=1), "Tokens kept from the start of each text."),
    Option("ngrams", 3, click.IntRange(min=0),
           "Add a linear bag of the words and hashed n-grams up to this order (NBSVM/fastText features); 0: none.",
           legacy=0),
    Option("ngram_buckets", 2**21, click.IntRange(min=1), "Hash buckets shared by the n-grams of order 2 and up."),
    Option("ngram_dropout", 0.5, click.FloatRange(0, 1, max_open=True), "Share of n-grams dropped in training."),
    Option("ngram_scale", 30.0, click.FloatRange(min=0, min_open=True),
           "Learning rate of the n-gram weights relative to the rest of the model."),
    Option("ngram_init", "auto", click.Choice(["auto", "zero", "naive-bayes"]),
           "Start of the n-gram weights: zero, or the log-count ratios of naive Bayes on the training texts "
           "(NBSVM's, Wang & Manning 2012; one counting pass over the training batches first; with --pipeline "
           "stream over the first --vocabulary-sample texts, read again). auto: naive-bayes in memory, where "
           "the pass reads the cached batches, zero with --pipeline stream.", legacy="zero"),
    Option("branch_patience", 2, CountOr("off", "epochs"),
           "Stop training each branch of the ensemble (the n-gram bag, each recurrent classifier) once its own "
           "validation accuracy has not improved for N epochs, with its best epoch's weights back, while the "
           "others train on: the bag overfits within an epoch or two, long before the recurrent branches are "
           "done. off: every branch trains until the ensemble stops (--patience).", legacy="off", resumable=True),
) + pretrained_options() + Options(
    Option("init_from", None, click.Path(file_okay=False),
           "Start the word embedding and the first recurrent layer(s) (forward direction) from a word-level "
           "language model run of the text-generation app (Dai & Le 2015); --cell, --units and --embedding-dim "
           "must be its own. `python -m apps.sentiment lm-text` writes its training text."),
    Option("pretrain_epochs", "auto", CountOr("auto", "epochs"),
           "Train a word-level language model of the training texts read forwards, and one read backwards, for "
           "N epochs each into RUN_DIR/language_models first (windows of 200 words, a softmax sampling 1,024 of "
           "a larger vocabulary, the encoder's cell, units and embedding), then start from them as --init-from "
           f"and --init-backward-from do. 0: no pretraining; auto: {AUTO_PRETRAIN_EPOCHS} unless the encoder "
           "starts from --init-from or --embeddings, is not --bidirectional, --pipeline is stream or "
           "--strategy multi-worker.", legacy=0),
    Option("unlabeled_file", None, None,
           "More text for the language models (--pretrain-epochs, lm-text), one text per line (UTF-8, gzip "
           "accepted): a path, a glob or a comma-separated list."),
    Option("init_backward_from", None, click.Path(file_okay=False),
           "With --init-from and --bidirectional: start the backward direction from a language model of the "
           "texts read backwards (trained on `lm-text --reverse`)."),
) + adversarial_options(ADVERSARIAL_EPSILON) + training_options(
    epochs=4, batch_size=64, learning_rate=1e-3, clipnorm=1.0, patience=2)  # 4 epochs: within the 45 minutes

# lm-text reads the training side exactly as train would: the same data options, declared above.
LM_TEXT_OPTIONS = OPTIONS.only("train_file", "valid_file", "dataset", "valid_fraction", "pipeline", "vocabulary_sample",
                               "text_column", "label_column", "seed", "unlabeled_file") + Options(
    Option("output", None, click.Path(dir_okay=False, writable=True),
           "Where to write the text: one text per line, tokens as the classifier reads them.", required=True),
    Option("reverse", False, None, "Write each text's tokens in reverse order, for a language model that reads "
           "backwards (--init-backward-from).", flag=True),
)

EVALUATE_OPTIONS = Options(
    Option("test_file", None, click.Path(dir_okay=False), "Labelled file, same format as training."),
    Option("dataset", None, None, "tensorflow-datasets name (default: the training run's)."),
    Option("split", "test", None, "tfds split, when no --test-file is given."),
    Option("batch_size", 256, click.IntRange(min=1)),
)

DEFAULTS = OPTIONS.defaults
