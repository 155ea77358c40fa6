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


def check_language_model(options, option="--init-from", name="init_from"):
    """The options of the word-level language model run `options[name]` (textgen), checked to fit the new
    model: word level, and the same cell, units and embedding size. A one-line error otherwise, raised before
    anything is read or written (`App.check_options`)."""
    from apps.common.errors import UserError
    from apps.common.rundir import RunDir

    path = options[name]
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
    for key in ("cell", "units", "embedding_dim"):
        flag = f"--{key.replace('_', '-')}"
        if lm_options[key] != options[key]:
            raise UserError(f"{option} {path}: its {key} is {lm_options[key]}, this run's {flag} is "
                            f"{options[key]}; give {flag} {lm_options[key]}")
    return lm_options


def _language_model(path):
    """(vocabulary [V] tokens, Keras model, its recurrent layers first to last) of a textgen run."""
    from apps.common.app import load_run
    from apps.textgen.cli import APP as TEXTGEN

    trained = load_run(TEXTGEN, path)
    recurrent = [layer for layer in trained.model.layers if layer.name.startswith("rnn_")]
    return trained.encoders, trained.model, recurrent


def _start_cells(layers, lm_layers):
    """Copy rnn_i's cell weights into each of `layers`' cells while the shapes match; returns how many."""
    for started, (cell, lm_layer) in enumerate(zip(layers, lm_layers)):
        source = lm_layer.cell.get_weights()
        if [w.shape for w in cell.get_weights()] != [w.shape for w in source]:
            return started
        cell.set_weights(source)
    return min(len(layers), len(lm_layers))


def _start_embeddings(embeddings, vocabulary, lm_vocabulary, lm_matrix):
    """Each row of a word of `vocabulary` that `lm_vocabulary` has, and the unknown word's, takes the language
    model's row [D] in each Embedding of `embeddings`; returns how many words did."""
    import numpy as np

    lm_rows = {token: row for row, token in enumerate(lm_vocabulary)}
    pairs = [(row, lm_rows[word]) for row, word in enumerate(vocabulary) if row >= 2 and word in lm_rows]
    pairs.append((1, 1))  # the unknown word: both vocabularies put it at 1
    new_rows, lm_rows_taken = map(np.array, zip(*pairs))
    for layer in embeddings:
        matrix = layer.embeddings.numpy()
        matrix[new_rows] = lm_matrix[lm_rows_taken]
        layer.embeddings.assign(matrix)
    return len(pairs) - 1


def language_model_start(model, options, vocabulary, embeddings, recurrent):
    """Start `model`'s word embeddings and first recurrent layers from language model runs (Dai & Le 2015):
    `options["init_from"]`, read forwards, and for the backward direction of bidirectional layers
    `options["init_backward_from"]`, a language model of the texts read backwards (`lm-text --reverse`).

    embeddings: the new model's Embedding layers over `vocabulary` (one per
    ensemble branch); each row of a word the forward language model knows becomes
    that word's vector there, the others (and padding) keep their random start,
    and the unknown word's row is the model's unknown row. recurrent: per branch,
    the new model's recurrent layers, first layer first (keras RNN, or
    Bidirectional). Layer i's cell (forward direction) takes the language
    model's rnn_i while their weights have the same shapes (a bidirectional
    layer above the first reads twice the units: not started); the backward
    direction keeps its random start without a backward model. Cell, units and
    embedding size must be the language models'. Returns the line printed on
    stderr.
    """
    lm_options = check_language_model(options)
    lm_vocabulary, lm, lm_layers = _language_model(options["init_from"])
    words = _start_embeddings(embeddings, vocabulary, lm_vocabulary, lm.get_layer("embedding").embeddings.numpy())
    # Every branch has the same layers: the count of the last is every branch's.
    forward = [_start_cells([getattr(layer, "forward_layer", layer).cell for layer in branch], lm_layers)
               for branch in recurrent][-1]
    bidirectional = any(hasattr(layer, "backward_layer") for branch in recurrent for layer in branch)
    backward = None
    if options.get("init_backward_from"):
        check_language_model(options, "--init-backward-from", "init_backward_from")
        backward_layers = _language_model(options["init_backward_from"])[2]
        backward = [_start_cells([layer.backward_layer.cell for layer in branch], backward_layers)
                    for branch in recurrent][-1]
    line = (f"--init-from {options['init_from']}: embedding rows of {words:,} of {len(vocabulary) - 2:,} "
            f"words from the language model ({len(lm_vocabulary):,} tokens), the first {forward} recurrent "
            f"layer(s) from its {lm_options['cell']} {lm_options['layers']} x {lm_options['units']}"
            + (" (forward direction)" if bidirectional else ""))
    if backward is not None:
        line += (f"; backward direction of the first {backward} from --init-backward-from "
                 f"{options['init_backward_from']}")
    elif bidirectional:
        line += "; the backward one starts at random"
    click.echo(line, err=True)
    return line
