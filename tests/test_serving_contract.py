"""The serving contract of all five apps: one export-all command, signatures, and hostile input.

The exported SavedModels are loaded in a process that cannot import this
project, as TensorFlow Serving would: what they need must be in the graph.
"""

import re

import pytest
from click.testing import CliRunner

from apps.cli import cli
from tests.isolated import run_isolated

pytestmark = pytest.mark.tf_only

# signature -> (inputs, outputs), as `saved_model_cli show --all` lists them.
SIGNATURES = {
    "sentiment": {"serving_default": ({"texts": "DT_STRING"}, {"label": "DT_STRING", "probability": "DT_FLOAT"})},
    "ner": {
        "serving_default": ({"sentences": "DT_STRING"},
                            {"tokens": "DT_STRING", "tags": "DT_STRING", "length": "DT_INT32"}),
        "tag_tokens": ({"tokens": "DT_STRING"}, {"tokens": "DT_STRING", "tags": "DT_STRING", "length": "DT_INT32"}),
    },
    "translation": {
        "serving_default": ({"texts": "DT_STRING"}, {"translation": "DT_STRING"}),
        "beam_search": ({"texts": "DT_STRING"}, {"translation": "DT_STRING"}),
    },
    "music": {
        "serving_default": ({"events": "DT_INT32"}, {"probabilities": "DT_FLOAT"}),
        "generate": ({"primer": "DT_INT32", "length": "DT_INT32", "temperature": "DT_FLOAT", "seed": "DT_INT32"},
                     {"events": "DT_INT32"}),
    },
    "textgen": {
        "serving_default": ({"texts": "DT_STRING"}, {"probabilities": "DT_FLOAT", "tokens": "DT_STRING"}),
        "generate": ({"prefixes": "DT_STRING", "number": "DT_INT32", "temperature": "DT_FLOAT", "seed": "DT_INT32",
                      "top_k": "DT_INT32", "top_p": "DT_FLOAT"}, {"texts": "DT_STRING"}),
    },
}


@pytest.fixture(scope="module")
def exported(sentiment_trained, ner_trained, translation_trained, music_trained, textgen_trained, tmp_path_factory):
    base = tmp_path_factory.mktemp("serving")
    result = CliRunner().invoke(cli, [
        "export-all", "--export-base", str(base / "saved_models"), "--sentiment", str(sentiment_trained[1]),
        "--ner", str(ner_trained[1]), "--translation", str(translation_trained[1]), "--music", str(music_trained[0]),
        "--textgen", str(textgen_trained[1]),
    ], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return base, result.output.strip().splitlines()


def signatures_of(show_output):
    """{signature: ({input: dtype}, {output: dtype})} from `saved_model_cli show --all`."""
    found = {}
    for block in show_output.split("signature_def['")[1:]:
        name = block.split("'", 1)[0]
        inputs, _, outputs = block.partition("output(s):")
        found[name] = tuple({key: dtype for key, dtype in re.findall(r"\['(\w+)'\] tensor_info:\s+dtype: (\w+)", part)}
                            for part in (inputs, outputs))
    return found


def test_export_all_writes_every_app_and_the_serving_config(exported):
    base, lines = exported
    export_base = base / "saved_models"
    apps = ("sentiment", "ner", "translation", "music", "textgen")
    assert lines == [str(export_base / app / "1") for app in apps] + [f"{export_base}/models.config"]
    config = (export_base / "models.config").read_text()
    assert sorted(re.findall(r'name: "(\w+)"', config)) == sorted(SIGNATURES)


def test_saved_model_cli_lists_the_documented_signatures(served):
    for app, expected in SIGNATURES.items():
        found = {k: v for k, v in signatures_of(served["show"][app]).items() if not k.startswith("__")}
        assert found == expected, (app, found)


def test_export_all_checks_every_run_before_writing(sentiment_trained, music_trained, tmp_path):
    export_base = tmp_path / "saved_models"
    for wrong in (tmp_path / "missing", sentiment_trained[1]):  # no run at all; a run of another app
        result = CliRunner().invoke(cli, ["export-all", "--export-base", str(export_base), "--sentiment",
                                          str(sentiment_trained[1]), "--music", str(wrong)])
        assert result.exit_code != 0 and "Traceback" not in result.output
        assert result.output.count("\n") == 1 and result.output.startswith("Error: ") and str(wrong) in result.output
        assert not export_base.exists(), "nothing is exported when one of the runs is wrong"


HOSTILE_CHECK = r"""
import contextlib, io, json, math, time
import numpy as np
import tensorflow as tf
from hypothesis import HealthCheck, given, settings, strategies as st
from tensorflow.python.tools import saved_model_cli

show = {}
for app in ("sentiment", "ner", "translation", "music", "textgen"):
    # What `saved_model_cli show --all --dir DIR` prints, without a TensorFlow start-up per model.
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        saved_model_cli._show_all(f"saved_models/{app}/1")
    show[app] = printed.getvalue()

HOSTILE = [b"", b" ", b"\t\r\n ", "\x00\x01\x07\x1b[31m\x7f".encode(), "😀🎉👍🏽" .encode() * 40,
           "مرحبا بالعالم".encode(), "שלום עולם".encode(), "\u202eevil\u202c \u200f".encode(),
           b"<script>alert('x')</script><b>bold</b>&amp;", b"\xff\xfe\xc3", b"\xed\xa0\x80 surrogate",
           b"a" * 300_000, ("e\u0301" * 50).encode(), b"Harry Potter lives in Paris."]
texts = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=60).map(lambda t: t.encode("utf-8", "surrogatepass")),
                  st.binary(max_size=60))
batches = st.lists(texts, min_size=0, max_size=4)
run = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
               suppress_health_check=list(HealthCheck))
calls = {}


def count(name):
    calls[name] = calls.get(name, 0) + 1


sentiment = tf.saved_model.load("saved_models/sentiment/1").signatures["serving_default"]


@run
@given(batches)
def sentiment_texts(batch):
    out = sentiment(texts=tf.constant(batch, tf.string))
    p = out["probability"].numpy()
    assert p.shape == (len(batch),) and out["label"].shape == (len(batch),)
    assert np.all(np.isfinite(p)) and np.all((p >= 0) & (p <= 1)), p
    count("sentiment")


ner = tf.saved_model.load("saved_models/ner/1").signatures


def check_tags(out, rows):
    tags, length = out["tags"].numpy(), out["length"].numpy()
    assert tags.shape[0] == rows and length.shape == (rows,)
    assert np.all((length >= 0) & (length <= tags.shape[1]))
    for row, n in zip(tags, length):
        assert all(t == b"" for t in row[n:]) and all(t != b"" for t in row[:n])


@run
@given(batches)
def ner_sentences(batch):
    out = ner["serving_default"](sentences=tf.constant(batch, tf.string))
    check_tags(out, len(batch))
    assert out["tokens"].shape == out["tags"].shape
    count("ner sentences")


@run
@given(st.integers(0, 3), st.integers(0, 5), st.data())
def ner_tokens(rows, width, data):
    batch = [[data.draw(texts) for _ in range(width)] for _ in range(rows)]
    out = ner["tag_tokens"](tokens=tf.constant(batch, tf.string, shape=[rows, width]))
    check_tags(out, rows)
    count("ner tokens")


translation = tf.saved_model.load("saved_models/translation/1").signatures


@run
@given(batches, st.sampled_from(["serving_default", "beam_search"]))
def translate(batch, signature):
    out = translation[signature](texts=tf.constant(batch, tf.string))["translation"].numpy()
    assert out.shape == (len(batch),)
    [t.decode("utf-8") for t in out]  # valid UTF-8 always
    count("translation " + signature)


music = tf.saved_model.load("saved_models/music/1").signatures
int32 = st.integers(-2**31, 2**31 - 1)
ids = st.one_of(st.integers(-3, 40), int32)


@run
@given(st.integers(0, 3), st.integers(0, 6), st.data())
def music_next(rows, width, data):
    events = [[data.draw(ids) for _ in range(width)] for _ in range(rows)]
    p = music["serving_default"](events=tf.constant(events, tf.int32, shape=[rows, width]))["probabilities"].numpy()
    assert p.shape[0] == rows and np.all(np.isfinite(p)) and np.all((p >= 0) & (p <= 1))
    assert np.allclose(p.sum(-1), 1.0, atol=1e-4)
    count("music next")


@run
@given(st.lists(ids, max_size=8), st.one_of(st.integers(-5, 40), int32),
       st.one_of(st.floats(width=32), st.sampled_from([0.0, -1.0, math.inf, math.nan, 1e-30, 1e30])), int32)
def music_generate(primer, length, temperature, seed):
    out = music["generate"](primer=tf.constant(primer, tf.int32, shape=[len(primer)]),
                            length=tf.constant(length, tf.int32), temperature=tf.constant(temperature, tf.float32),
                            seed=tf.constant(seed, tf.int32))["events"].numpy()
    assert out.shape == (min(max(length, 0), MAX_GENERATED),)
    vocabulary = music["serving_default"](events=tf.zeros([1, 1], tf.int32))["probabilities"].shape[-1]
    assert np.all((out > 1) & (out < vocabulary)), out  # never padding or the start event
    count("music generate")


textgen = tf.saved_model.load("saved_models/textgen/1").signatures


@run
@given(batches)
def textgen_next(batch):
    out = textgen["serving_default"](texts=tf.constant(batch, tf.string))
    p = out["probabilities"].numpy()
    assert p.shape[0] == len(batch) and out["tokens"].shape == p.shape
    assert np.all(np.isfinite(p)) and np.all((p >= 0) & (p <= 1)) and np.allclose(p.sum(-1), 1.0, atol=1e-4)
    count("textgen next")


floats = st.one_of(st.floats(width=32), st.sampled_from([0.0, -1.0, math.inf, math.nan, 1e-30, 1e30]))


@run
@given(st.lists(texts, max_size=3), st.one_of(st.integers(-3, 4), int32), floats, int32,
       st.one_of(st.integers(-3, 5), int32), floats)
def textgen_generate(prefixes, number, temperature, seed, top_k, top_p):
    out = textgen["generate"](prefixes=tf.constant(prefixes, tf.string, shape=[len(prefixes)]),
                              number=tf.constant(number, tf.int32), temperature=tf.constant(temperature, tf.float32),
                              seed=tf.constant(seed, tf.int32), top_k=tf.constant(top_k, tf.int32),
                              top_p=tf.constant(top_p, tf.float32))["texts"].numpy()
    each = min(max(number, 0), MAX_SAMPLES // max(len(prefixes), 1))
    assert out.shape == (len(prefixes) * each,)
    for text, prefix in zip(out, np.repeat(np.array(prefixes, dtype=object), each)):
        assert text.startswith(prefix)  # every sample continues its prefix, byte for byte
        text[len(prefix):].decode("utf-8")  # and what the model adds is valid UTF-8
    count("textgen generate")


# Known answers, compared with what the run directories give (see the tests below).
LONG = " ".join(["Paris"] * 3000)
answers = {}
out = sentiment(texts=tf.constant(["great wonderful film", "worst movie ever , bad"]))
answers["sentiment"] = {"label": [t.decode() for t in out["label"].numpy()],
                        "probability": out["probability"].numpy().tolist()}
a = ner["serving_default"](sentences=tf.constant(["Harry Potter lives in Paris.", "", LONG, b"\xff bad bytes"]))
b = ner["tag_tokens"](tokens=tf.constant([["Harry", "Potter", "lives", "in", "Paris"], ["Berlin", "", "", "", ""]]))
decode = lambda t: [[s.decode() for s in row] for row in t.numpy()]
answers["ner"] = {"a_tags": decode(a["tags"]), "a_tokens": decode(a["tokens"]), "a_len": a["length"].numpy().tolist(),
                  "b_tags": decode(b["tags"]), "b_len": b["length"].numpy().tolist()}
dates = tf.constant(["3 May 1979", "1 ao\u0302ut 1999", "1 août 1999"])
answers["translation"] = {s: [t.decode() for t in translation[s](texts=dates)["translation"].numpy()]
                          for s in ("serving_default", "beam_search")}
args = dict(primer=tf.constant([3, 4], tf.int32), length=tf.constant(12), temperature=tf.constant(0.8),
            seed=tf.constant(7))
answers["music"] = {"a": music["generate"](**args)["events"].numpy().tolist(),
                    "b": music["generate"](**args)["events"].numpy().tolist(),
                    "sums": music["serving_default"](events=tf.constant([[1, 3, 4, 0], [1, 0, 0, 0]], tf.int32))[
                        "probabilities"].numpy().sum(-1).tolist()}

args = dict(prefixes=tf.constant(["Ma"]), number=tf.constant(3), temperature=tf.constant(1.0),
            seed=tf.constant(5), top_k=tf.constant(0), top_p=tf.constant(1.0))
generated = {name: textgen["generate"](**{**args, "seed": tf.constant(seed)})["texts"].numpy()
             for name, seed in (("a", 5), ("b", 6))}
answers["textgen"] = {name: [t.decode() for t in texts] for name, texts in generated.items()}

seconds = {}
for check in (sentiment_texts, ner_sentences, ner_tokens, translate, music_next, music_generate, textgen_next,
              textgen_generate):
    started = time.perf_counter()
    check()
    seconds[check.__name__] = round(time.perf_counter() - started, 1)
print(json.dumps({"calls": calls, "seconds": seconds, "show": show, "answers": answers}))
"""


EXAMPLES = 20


@pytest.fixture(scope="module")
def served(exported):
    """What the isolated process found: {"show": {app: text}, "calls": {check: n}, "seconds": {...}}."""
    from apps.music.serving import MAX_GENERATED
    from apps.textgen.serving import MAX_SAMPLES

    base, _ = exported
    code = HOSTILE_CHECK.replace("EXAMPLES", str(EXAMPLES)).replace("MAX_GENERATED", str(MAX_GENERATED)) \
        .replace("MAX_SAMPLES", str(MAX_SAMPLES))
    return run_isolated(code, cwd=base, timeout=600)


def test_every_signature_survives_hostile_input(served):
    calls = served["calls"]
    # Hypothesis may stop a little early once it has seen enough distinct inputs.
    for name in ("sentiment", "ner sentences", "ner tokens", "music next", "music generate", "textgen next",
                 "textgen generate"):
        assert calls[name] >= EXAMPLES // 2, calls
    assert calls["translation serving_default"] > 0 and calls["translation beam_search"] > 0, calls


def last_line(app, *args):
    cli = __import__(f"apps.{app}.cli", fromlist=["cli"]).cli
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def test_sentiment_served_as_the_run_directory_predicts(served, sentiment_trained):
    answers = served["answers"]["sentiment"]
    assert answers["label"] == ["positive", "negative"]
    local = last_line("sentiment", "predict", "--run-dir", sentiment_trained[1], "great wonderful film")
    assert local.split("\t")[:2] == ["positive", f"{answers['probability'][0]:.4f}"]


def test_ner_served_tags_and_lengths(served):
    out = served["answers"]["ner"]
    assert out["a_len"] == [6, 0, 3000, 3]
    assert out["a_tokens"][0][:6] == ["Harry", "Potter", "lives", "in", "Paris", "."]
    assert out["a_tags"][0][:2] == ["B-PER", "I-PER"] and out["a_tags"][0][4] == "B-LOC"
    assert out["a_tags"][1] == [""] * 3000  # padding of the empty sentence
    assert out["b_len"] == [5, 1] and out["b_tags"][0][:2] == ["B-PER", "I-PER"] and out["b_tags"][1][0] == "B-LOC"


def test_translation_served_as_translate_decodes(served, translation_trained):
    out = served["answers"]["translation"]
    run_dir = translation_trained[1]
    assert out["serving_default"][0] == last_line("translation", "translate", "--run-dir", run_dir, "3 May 1979")
    assert out["beam_search"][0] == last_line("translation", "translate", "--run-dir", run_dir, "--beam-size", 4,
                                              "3 May 1979")
    for decoded in out.values():
        assert decoded[1] == decoded[2]  # a decomposed accent reads as the composed one


def test_music_generation_in_the_graph_is_seeded(served):
    out = served["answers"]["music"]
    assert out["a"] == out["b"] and len(out["a"]) == 12 and 0 not in out["a"] and 1 not in out["a"]
    assert all(abs(total - 1.0) < 1e-5 for total in out["sums"])


def test_textgen_generation_in_the_graph_is_what_sample_prints(served, textgen_trained):
    out = served["answers"]["textgen"]
    assert len(out["a"]) == 3 and all(t.startswith("Ma") for t in out["a"])
    assert out["a"] != out["b"], "another seed, other samples"
    cli = __import__("apps.textgen.cli", fromlist=["cli"]).cli
    result = CliRunner().invoke(cli, ["sample", "--run-dir", str(textgen_trained[1]), "--num", "3", "--seed", "5",
                                      "--prefix", "Ma"], catch_exceptions=False)
    assert [line[2:] for line in result.stdout.splitlines()] == out["a"]
