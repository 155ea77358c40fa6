"""Sentence pairs for translation, from tab-separated files."""

import unicodedata

from .errors import DataError
from .files import read_lines


def read_pairs(path, source_column=0, target_column=1):
    """(source, target) pairs, NFC-normalised so accents compare equal however they were typed."""
    pairs = list(iter_pairs(path, source_column, target_column))
    if not pairs:
        raise DataError(path, "no sentence pairs in the file")
    return pairs


def iter_pairs(path, source_column=0, target_column=1):
    """The pairs of `read_pairs`, yielded as they are read (a file without any yields nothing)."""
    width = None
    for number, line in read_lines(path):
        if not line.strip():
            continue
        fields = line.split("\t")
        if width is None:
            width = len(fields)
            for name, column in (("--source-column", source_column), ("--target-column", target_column)):
                if not 0 <= column < width:
                    raise DataError(path, f"{name} {column} does not exist: lines have {width} columns", number)
        if len(fields) != width:
            raise DataError(path, f"expected {width} tab-separated columns, found {len(fields)}", number)
        source, target = (unicodedata.normalize("NFC", fields[c].strip()) for c in (source_column, target_column))
        if not source or not target:
            raise DataError(path, "empty sentence", number)
        yield source, target
