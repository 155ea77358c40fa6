"""Starting a new run's word embedding from a user's pretrained vectors."""

import click


def word_vectors(layer_name, vocabulary_name):
    """An `App.initialize` that loads `--embeddings` into the Embedding layer `layer_name`, row per word.

    The rows of words the file lacks, and of padding and the unknown word,
    keep their random initial values; coverage goes to stderr and into the
    returned dict (recorded by the harness in the run's log).
    """

    def initialize(model, options, vocabularies):
        if not options.get("embeddings"):
            return None
        from datasets.embeddings import aligned_vectors

        layer = model.get_layer(layer_name)
        matrix, coverage = aligned_vectors(options["embeddings"], vocabularies[vocabulary_name],
                                           layer.embeddings.numpy())
        layer.embeddings.assign(matrix)
        click.echo(coverage.summary(options["embeddings"]), err=True)
        return coverage

    return initialize
