"""Starting a new run's word embedding from a user's pretrained vectors, or its encoder from a language model
run of the text-generation app."""

import click


def word_vectors(layer_name, vocabulary_name):
    """An `App.initialize` loading `--embeddings` into the Embedding `layer_name` (and `layer_name`_1, _2, ...).

    Every branch of an ensemble has its own embedding of one vocabulary; each
    gets the vectors over its own random start, so the branches still differ
    where the file has no vector. Rows of words the file lacks, padding and
    the unknown word keep their random values. The coverage is printed on
    stderr and returned (None without --embeddings).
    """

    def initialize(model, options, vocabularies, train=None):
        if not options.get("embeddings"):
            return None
        from datasets.embeddings import aligned_vectors

        layers = [layer for layer in model.layers
                  if layer.name == layer_name or layer.name.startswith(f"{layer_name}_") and
                  layer.name[len(layer_name) + 1:].isdigit()]
        for layer in layers:
            matrix, coverage = aligned_vectors(options["embeddings"], vocabularies[vocabulary_name],
                                               layer.embeddings.numpy())
            layer.embeddings.assign(matrix)
        click.echo(coverage.summary(options["embeddings"]), err=True)
        return coverage

    return initialize


def check_language_model(options, option="--init-from"):
    """The options of the word-level language model run `options["init_from"]` (textgen), checked to fit the
    new model: word level, and the same cell, units and embedding size. A one-line error otherwise, raised
    before anything is read or written (`App.check_options`)."""
    from apps.common.errors import UserError
    from apps.common.rundir import RunDir

    path = options["init_from"]
    if options.get("embeddings"):
        raise UserError(f"--embeddings and {option} both start the word embedding: give one of them")
    try:
        lm_options = RunDir(path, "textgen").trained_options()
    except UserError as err:
        raise UserError(f"{option} {err}; train a language model there with `python -m apps.textgen train "
                        "--mode text --level word`") from None
    if lm_options["level"] != "word":
        raise UserError(f"{option} {path}: a {lm_options['level']}-level language model; the encoder reads "
                        "words: train it with --mode text --level word")
    for name in ("cell", "units", "embedding_dim"):
        flag = f"--{name.replace('_', '-')}"
        if lm_options[name] != options[name]:
            raise UserError(f"{option} {path}: its {name} is {lm_options[name]}, this run's {flag} is "
                            f"{options[name]}; give {flag} {lm_options[name]}")
    return lm_options


def language_model_start(model, options, vocabulary, embeddings, recurrent, option="--init-from"):
    """Start `model`'s word embeddings and first recurrent layers from the language model run `options[init_from]`.

    embeddings: the new model's Embedding layers over `vocabulary` (one per
    ensemble branch); each row of a word the language model knows becomes that
    word's vector there, the others (and padding) keep their random start, and
    the unknown word's row is the model's unknown row. recurrent: per branch, the
    new model's recurrent layers, first layer first (keras RNN, or Bidirectional,
    whose forward direction is started; its backward direction reads the text
    the other way, which the language model never did, and keeps its random
    start). Layer i takes the language model's rnn_i while their weights have
    the same shapes. Cell, units and embedding size must be the language
    model's. Returns the line printed on stderr.
    """
    import numpy as np

    from apps.common.app import load_run
    from apps.textgen.cli import APP as TEXTGEN

    path = options["init_from"]
    lm_options = check_language_model(options, option)
    trained = load_run(TEXTGEN, path)
    lm_vocabulary, lm = trained.encoders, trained.model
    lm_rows = {token: row for row, token in enumerate(lm_vocabulary)}
    pairs = [(row, lm_rows[word]) for row, word in enumerate(vocabulary) if row >= 2 and word in lm_rows]
    pairs.append((1, 1))  # the unknown word: both vocabularies put it at 1
    new_rows, lm_rows_taken = map(np.array, zip(*pairs))
    lm_matrix = lm.get_layer("embedding").embeddings.numpy()
    for layer in embeddings:
        matrix = layer.embeddings.numpy()
        matrix[new_rows] = lm_matrix[lm_rows_taken]
        layer.embeddings.assign(matrix)
    lm_layers = [layer for layer in lm.layers if layer.name.startswith("rnn_")]
    started = 0
    for branch in recurrent:
        started = 0
        for layer, lm_layer in zip(branch, lm_layers):
            target = getattr(layer, "forward_layer", layer).cell
            source = lm_layer.cell.get_weights()
            if [w.shape for w in target.get_weights()] != [w.shape for w in source]:
                break
            target.set_weights(source)
            started += 1
    bidirectional = any(hasattr(layer, "forward_layer") for branch in recurrent for layer in branch)
    line = (f"{option} {path}: embedding rows of {len(pairs) - 1:,} of {len(vocabulary) - 2:,} words from the "
            f"language model ({len(lm_vocabulary):,} tokens); the first {started} recurrent layer(s) "
            + ("(forward direction; the backward one starts at random)" if bidirectional else "")
            + f" from its {lm_options['cell']} {lm_options['layers']} x {lm_options['units']}")
    click.echo(line, err=True)
    return line
