"""Pretrained word vectors (GloVe, word2vec or fastText text format, gzip accepted), aligned to a vocabulary."""

import dataclasses

import numpy as np

from .errors import DataError
from .files import read_lines


@dataclasses.dataclass(frozen=True)
class Coverage:
    """How much of a vocabulary a vectors file covers."""

    exact: int  # words found as they are
    folded: int  # found only through their lower-cased form
    missing: int  # kept their random initial vectors
    file_words: int  # vectors read from the file

    def summary(self, path):
        total = self.exact + self.folded + self.missing
        return (f"{path}: {self.file_words:,} vectors; {self.exact + self.folded:,} of {total:,} vocabulary words "
                f"covered ({100 * (self.exact + self.folded) / max(total, 1):.1f}%: {self.exact:,} as they are, "
                f"{self.folded:,} lower-cased), {self.missing:,} keep random vectors")


def _vector_lines(path):
    """(line number, word, values as strings) of every vector; a word2vec/fastText header line is skipped."""
    for number, line in read_lines(path):
        fields = line.rstrip(" ").split(" ")
        if number == 1 and len(fields) == 2 and all(f.isdigit() for f in fields):
            continue  # "count dimension"
        if fields != [""]:
            yield number, fields


def aligned_vectors(path, vocabulary, initial):
    """initial [V, D] with the rows of the words of `vocabulary` found in `path` replaced; (matrix, Coverage).

    A word is looked up as it is, then lower-cased. Words may contain spaces
    (GloVe 840B has some): the last D fields of a line are the vector. Every
    line must have the dimension D of the embedding, else a one-line error
    names the file and line; so must the first line, which is how a wrong
    `--embedding-dim` is caught before anything is read further.
    """
    dim = initial.shape[1]
    wanted = {word: row for row, word in enumerate(vocabulary) if row >= 2}  # 0 padding, 1 unknown
    folded = {}
    for row, word in enumerate(vocabulary):
        if row >= 2:
            folded.setdefault(word.lower(), []).append(row)
    matrix = np.array(initial, dtype="float32")
    found_exact, found_folded, file_words = set(), set(), 0
    for number, fields in _vector_lines(path):
        if len(fields) < dim + 1:
            raise DataError(path, f"{len(fields) - 1} values, but the embedding has {dim} dimensions "
                                  f"(set the embedding size to the file's)", number)
        word, values = " ".join(fields[:-dim]), fields[-dim:]
        try:
            vector = np.asarray(values, dtype="float32")
        except ValueError:
            raise DataError(path, f"the vector of {word[:40]!r} is not {dim} numbers", number) from None
        file_words += 1
        if word in wanted:
            matrix[wanted[word]] = vector
            found_exact.add(wanted[word])
        for row in folded.get(word.lower(), ()):
            if row not in found_exact and row not in found_folded and word == word.lower():
                matrix[row] = vector
                found_folded.add(row)
    found_folded -= found_exact
    missing = len(wanted) - len(found_exact) - len(found_folded)
    return matrix, Coverage(len(found_exact), len(found_folded), missing, file_words)
