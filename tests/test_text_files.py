"""Readers of labelled text files: every format, and errors that name file and line."""

import gzip

import pytest

from datasets.errors import DataError
from datasets.text_classification import encode_labels, label_vocabulary, read_labelled_texts


def write(tmp_path, name, content, mode="w"):
    path = tmp_path / name
    if name.endswith(".gz"):
        with gzip.open(path, "wb") as handle:
            handle.write(content if isinstance(content, bytes) else content.encode())
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("name,content,columns", [
    ("a.jsonl", '{"text": "good", "label": 1}\n\n{"text": "bad", "label": 0}\n', ("text", "label")),
    ("a.jsonl.gz", '{"text": "good", "label": 1}\n{"text": "bad", "label": 0}\n', ("text", "label")),
    ("a.csv", 'label,text\n1,good\n0,"bad"\n', ("text", "label")),
    ("a.tsv", "good\t1\nbad\t0", (0, 1)),  # header-less, no final newline (like SST-2)
    ("bom.csv", "\ufefftext,label\r\ngood,1\r\nbad,0\r\n", ("text", "label")),
])
def test_formats_read_alike(tmp_path, name, content, columns):
    texts, labels, lines = read_labelled_texts(write(tmp_path, name, content), *columns)
    assert texts == ["good", "bad"] and labels == ["1", "0"]


@pytest.mark.parametrize("name,content,columns,message", [
    ("bad.jsonl", '{"text": "ok", "label": 1}\n{"text": "oops", "label": \n', ("text", "label"),
     r"bad.jsonl:2: not valid JSON"),
    ("miss.jsonl", '{"text": "ok", "label": 1}\n{"txt": "x", "label": 0}\n', ("text", "label"),
     r"miss.jsonl:2: no field 'text'"),
    ("cols.csv", "text,label\nok,1\nnot,ok,0\n", ("text", "label"), r"cols.csv:3: expected 2 columns, found 3"),
    ("head.csv", "review,label\nok,1\n", ("text", "label"), r"head.csv:1: no column 'text'"),
    ("empty.jsonl", "", ("text", "label"), r"empty.jsonl: no examples"),
    ("bytes.tsv", b"good\t1\nb\xffd\t0\n", (0, 1), r"bytes.tsv:2: not valid UTF-8"),
    ("a.parquet", "x", ("text", "label"), r"a.parquet: unknown file type"),
    ("nolabel.tsv", "good\t\n", (0, 1), r"nolabel.tsv:1: empty label"),
])
def test_malformed_files_name_file_and_line(tmp_path, name, content, columns, message):
    with pytest.raises(DataError, match=message):
        read_labelled_texts(write(tmp_path, name, content), *columns)


def test_truncated_gzip(tmp_path):
    path = tmp_path / "cut.jsonl.gz"
    whole = gzip.compress(b"".join(b'{"text": "t%d", "label": 1}\n' % i for i in range(2000)))
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DataError, match=r"cut.jsonl.gz: truncated or corrupt gzip"):
        read_labelled_texts(str(path))


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"nope.jsonl: no such file"):
        read_labelled_texts(str(tmp_path / "nope.jsonl"))


def test_labels_outside_the_known_set_name_the_line():
    vocabulary = label_vocabulary(["0", "1", "1"], "train.jsonl")
    with pytest.raises(DataError, match=r"valid.jsonl:3: label '2' is not one of the known labels"):
        encode_labels(["1", "0", "2"], vocabulary, "valid.jsonl", [1, 2, 3])
    with pytest.raises(DataError, match="exactly two labels"):
        label_vocabulary(["0", "1", "2"], "train.jsonl")


def test_standardize_keeps_accented_words_and_survives_bad_bytes():
    import tensorflow as tf

    from datasets.text_classification import standardize

    out = standardize(tf.constant(["Très BIEN!<br />Café", b"ok \xff\xfe"])).numpy()
    assert out[0].decode().split() == ["très", "bien", "!", "café"]
    assert out[1].decode().split()[0] == "ok"
