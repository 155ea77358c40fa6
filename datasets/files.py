"""Reading the users' text files: gzip, byte-order marks, CRLF, and errors that name the line."""

import csv
import gzip
import json
import os
import zlib

from .errors import DataError
from .progress import progress

ROW_FORMATS = {".jsonl": "jsonl", ".json": "jsonl", ".csv": "csv", ".tsv": "tsv", ".txt": "tsv"}


def row_format(path):
    """'jsonl', 'csv' or 'tsv', from the extension (a trailing .gz is looked through)."""
    name = str(path).lower()
    if name.endswith(".gz"):
        name = name[:-3]
    ext = os.path.splitext(name)[1]
    if ext not in ROW_FORMATS:
        raise DataError(path, f"unknown file type {ext!r}; expected one of {sorted(ROW_FORMATS)} (optionally .gz)")
    return ROW_FORMATS[ext]


def read_lines(path):
    """Yield (line_number, line without its line end) from a UTF-8 text file, gzip or not.

    A byte-order mark and CRLF line ends are accepted. Undecodable bytes and a
    truncated gzip are DataErrors naming the file (and line).
    """
    if not os.path.exists(path):
        raise DataError(path, "no such file")
    if os.path.isdir(path):
        raise DataError(path, "is a directory, expected a file")
    try:
        handle = gzip.open(path, "rb") if str(path).endswith(".gz") else open(path, "rb")
    except OSError as err:
        raise DataError(path, f"cannot open ({err.strerror or err})") from None
    number = 0
    with handle, progress(description=f"reading {os.path.basename(str(path))}", unit="lines") as bar:
        while True:
            try:
                raw = handle.readline()
            except (EOFError, gzip.BadGzipFile, zlib.error) as err:
                raise DataError(path, f"truncated or corrupt gzip after line {number} ({err})") from None
            if not raw:
                return
            number += 1
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise DataError(path, f"not valid UTF-8 (byte {err.start + 1} of the line)", number) from None
            bar.update(1)
            yield number, line.rstrip("\r\n")


def _column_index(path, header, column):
    if isinstance(column, int):
        if not 0 <= column < len(header):
            raise DataError(path, f"column {column} does not exist: rows have {len(header)} columns", 1)
        return column
    if column not in header:
        raise DataError(
            path,
            f"no column {column!r} in the header {header}; for a file without a header "
            f"give column numbers (0-based), e.g. --text-column 0 --label-column 1",
            1,
        )
    return header.index(column)


def parse_column(value):
    """A column option: a 0-based number (header-less file) or a header name."""
    value = str(value)
    return int(value) if value.isdigit() else value


def read_rows(path, columns):
    """Yield (line_number, [value per column]) from a JSONL, CSV or TSV file.

    `columns` are header names (JSONL keys, or a CSV/TSV header row) or 0-based
    numbers, which mean the CSV/TSV file has no header row. Every row must have
    as many fields as the first; empty files are an error.
    """
    fmt = row_format(path)
    lines = read_lines(path)
    found = False
    if fmt == "jsonl":
        for number, line in lines:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(path, f"not valid JSON ({err.msg} at column {err.colno})", number) from None
            if not isinstance(record, dict):
                raise DataError(path, "expected a JSON object per line", number)
            values = []
            for column in columns:
                if column not in record:
                    raise DataError(path, f"no field {column!r} (fields: {sorted(record)})", number)
                values.append(record[column])
            found = True
            yield number, values
    else:
        positional = all(isinstance(c, int) for c in columns)
        delimiter = "," if fmt == "csv" else "\t"
        width = indices = None
        # csv.reader on single lines keeps our line numbers; quoted fields
        # with embedded newlines are not supported in these formats.
        for number, line in ((n, text) for n, text in lines if text.strip()):
            try:
                fields = next(csv.reader([line], delimiter=delimiter))
            except (csv.Error, StopIteration) as err:
                raise DataError(path, f"malformed row ({err})", number) from None
            if width is None:
                width = len(fields)
                if not positional:
                    indices = [_column_index(path, fields, c) for c in columns]
                    continue
                indices = [_column_index(path, fields, c) for c in columns]
            if len(fields) != width:
                raise DataError(path, f"expected {width} columns, found {len(fields)}", number)
            found = True
            yield number, [fields[i] for i in indices]
    if not found:
        raise DataError(path, "no examples in the file")
