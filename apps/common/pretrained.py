"""Starting a new run's word embedding from a user's pretrained vectors."""

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
