"""Malformed input files, every format of every app, through the CLIs.

Each bad file is refused with one line, `Error: <file>:<line>: <why>` (no line
where the fault is the whole file), a non-zero exit and no traceback, before
anything is written. Byte-order marks and CRLF line ends are read like clean
files.
"""

import gzip
import importlib
import re

import pytest
from click.testing import CliRunner

from tests.fixtures import abc_tune, ner_sentences, sentiment_rows, write_conll, write_jsonl

GOOD_PAIRS = "".join(f"I am {i}.\tEstoy {i}.\n" for i in range(20))
GOOD_CONLL = "EU NNP B-ORG\nrejects VBZ O\n\nPeter NNP B-PER\nBlackburn NNP B-LOC\n"


def truncated_gzip(text):
    whole = gzip.compress(text.encode() * 200)
    return whole[: len(whole) // 2]


# (app, bad file name, content, options before the file, option that takes the file, expected message)
# The message is matched after "Error: <path>".
CASES = [
    ("sentiment", "empty.jsonl", b"", [], "--train-file", r": no examples in the file"),
    ("sentiment", "header.csv", b"review,label\nok,1\n", [], "--train-file", r":1: no column 'text'"),
    ("sentiment", "width.csv", b"text,label\nok,1\nnot,ok,0\n", [], "--train-file", r":3: expected 2 columns, found 3"),
    ("sentiment", "label.jsonl", b'{"text": "fine", "label": 1}\n{"text": "meh", "label": "maybe"}\n', [],
     "--valid-file", r":2: label 'maybe' is not one of"),
    ("sentiment", "cut.jsonl.gz", truncated_gzip('{"text": "good", "label": 1}\n'), [], "--train-file",
     r": truncated or corrupt gzip"),
    ("sentiment", "bytes.tsv", b"text\tlabel\ngood\t1\nb\xffd\t0\n", [], "--train-file", r":3: not valid UTF-8"),
    ("ner", "empty.conll", b"", [], "--train-file", r": no sentences"),
    ("ner", "width.conll", b"EU NNP B-ORG\nrejects VBZ\n", [], "--train-file", r":2: expected 3 columns, found 2"),
    ("ner", "tag.conll", b"EU NNP B-ORG\nrejects VBZ Q-LOC\n", [], "--train-file", r":2: tag 'Q-LOC' is not O"),
    ("ner", "type.conll", b"Paris NNP B-CITY\n", [], "--valid-file", r":1: entity type of 'B-CITY' never occurs in the training data"),
    ("ner", "cut.conll.gz", truncated_gzip("EU NNP B-ORG\nrejects VBZ O\n\n"), [], "--train-file",
     r": truncated or corrupt gzip"),
    ("ner", "bytes.conll", b"EU NNP B-ORG\nr\xe9jects VBZ O\n", [], "--train-file", r":2: not valid UTF-8"),
    ("translation", "empty.tsv", b"", [], "--train-file", r": no sentence pairs"),
    ("translation", "column.tsv", GOOD_PAIRS.encode(), ["--source-column", "3"], "--train-file",
     r":1: --source-column 3 does not exist"),
    ("translation", "width.tsv", b"Go.\tVe.\nHi.\n", [], "--train-file", r":2: expected 2 tab-separated columns"),
    ("translation", "cut.tsv.gz", truncated_gzip("Go.\tVe.\n"), [], "--train-file", r": truncated or corrupt gzip"),
    ("translation", "bytes.tsv", b"Go.\tVe.\nHi.\tHol\xe1.\n", [], "--train-file", r":2: not valid UTF-8"),
]


def good_files(app, folder):
    """Options naming well-formed training and validation files of the app."""
    if app == "sentiment":
        return {"--train-file": write_jsonl(folder / "train.jsonl", sentiment_rows(40)),
                "--valid-file": write_jsonl(folder / "valid.jsonl", sentiment_rows(10, seed=1))}
    if app == "ner":
        return {"--train-file": write_conll(folder / "train.txt", ner_sentences(20)),
                "--valid-file": write_conll(folder / "valid.txt", ner_sentences(5, seed=1))}
    (folder / "pairs.tsv").write_text(GOOD_PAIRS)
    return {"--train-file": str(folder / "pairs.tsv")}


def invoke(app, args):
    cli = importlib.import_module(f"apps.{app}.cli").cli
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.parametrize("app,name,content,options,option,message", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_bad_file_is_one_line_error_naming_file_and_line(tmp_path, app, name, content, options, option, message):
    files = good_files(app, tmp_path)
    bad = tmp_path / name
    bad.write_bytes(content)
    files[option] = str(bad)
    run_dir = tmp_path / "run"
    result = invoke(app, ["train", "--run-dir", run_dir, *options, *[x for kv in files.items() for x in kv]])
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {bad}"), result.output
    assert re.match(message, lines[0][len(f"Error: {bad}"):]), lines[0]
    assert not run_dir.exists(), "a refused file must leave no run directory behind"


def test_music_folders_and_piano_rolls(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke("music", ["train", "--run-dir", tmp_path / "run", "--data-dir", empty])
    assert result.exit_code != 0 and result.output.strip().splitlines()[-1].startswith(f"Error: {empty}: no music")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "a.mid").write_bytes(b"MThd\x00\x00 truncated")
    (broken / "b.abc").write_bytes(b"X:1\nK:\xff\xfe\x00 not abc at all {{{{\n")
    result = invoke("music", ["train", "--run-dir", tmp_path / "run", "--data-dir", broken])
    lines = result.output.strip().splitlines()
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "could not be parsed and were skipped" in result.output and str(broken / "a.mid") in result.output
    assert lines[-1].startswith("Error: only") and not (tmp_path / "run").exists()

    rolls = tmp_path / "rolls"
    rolls.mkdir()
    for content, message in [
        (b"", r"jsb_chorales.train.json:1: not valid JSON"),
        (b'[[[60, 64], [62]], [[60], [6', r"jsb_chorales.train.json:1: not valid JSON"),
        (b'[[[60, 64], [62]], [[60], [\xff]]]', r"jsb_chorales.train.json: not valid UTF-8"),
        (b'[[[60, 64], [62]],\n [[60], [200]]]', r"jsb_chorales.train.json: sequence 1, step 1: pitch 200"),
    ]:
        (rolls / "jsb_chorales.train.json").write_bytes(content)
        (rolls / "jsb_chorales.valid.json").write_bytes(b"[[[60], [62]]]")
        result = invoke("music", ["benchmark", "--run-dir", tmp_path / "bench", "--dataset", "jsb_chorales",
                                  "--data-dir", rolls, "--cell", "gru", "--epochs", "1"])
        lines = result.output.strip().splitlines()
        assert result.exit_code != 0 and "Traceback" not in result.output and len(lines) == 1, result.output
        assert re.search(message, lines[0]), lines[0]


def test_byte_order_marks_and_crlf_read_like_clean_files(tmp_path):
    from datasets.conll import read_conll
    from datasets.music import load_tunes
    from datasets.pairs import read_pairs
    from datasets.polyphonic import read_piano_rolls
    from datasets.text_classification import read_labelled_texts

    def variants(name, text):
        clean, windows = tmp_path / f"clean-{name}", tmp_path / f"bom-crlf-{name}"
        clean.write_text(text, encoding="utf-8")
        windows.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
        return str(clean), str(windows)

    for name, text, read in [
        ("a.csv", "text,label\ngood,1\nbad,0\n", lambda p: read_labelled_texts(p, "text", "label")[:2]),
        ("a.jsonl", '{"text": "good", "label": 1}\n', lambda p: read_labelled_texts(p, "text", "label")[:2]),
        ("a.conll", GOOD_CONLL, read_conll),
        ("a.tsv", GOOD_PAIRS, read_pairs),
        ("a.json", "[[[60, 64], [62]]]\n", lambda p: read_piano_rolls(p)[0].tolist()),
        ("a.abc", abc_tune(1, "Tune"), lambda p: load_tunes([p], cache_dir=tmp_path / "cache")),
    ]:
        clean, windows = variants(name, text)
        assert read(windows) == read(clean), name
        assert read(clean), name
