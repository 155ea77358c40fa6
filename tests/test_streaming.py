"""--pipeline stream: files read as training goes, carved by hash, sharded by file, errors named mid-stream."""

import csv
import json

import pytest
from click.testing import CliRunner

from apps.sentiment.cli import cli
from datasets.errors import DataError
from datasets.streaming import expand_files, in_validation, round_robin, shard_files
from datasets.text_classification import labelled_rows, streamed_examples
from tests.fixtures import SENTIMENT_SMALL, sentiment_rows, write_jsonl

pytestmark = pytest.mark.tf_only


def _shards(folder, rows, n):
    return [write_jsonl(folder / f"s{i}.jsonl", rows[i::n]) for i in range(n)]


def _side(files, valid, fraction=0.2, seed=0):
    keep = (lambda t: in_validation(t, fraction, seed)) if valid else (lambda t: not in_validation(t, fraction, seed))
    return sorted(text for path in files for text, _ in streamed_examples(path, "text", "label", ["0", "1"], keep))


def test_the_carve_is_the_same_whatever_the_files_and_their_order(tmp_path):
    rows = [dict(r, text=f"{r['text']} {i}") for i, r in enumerate(sentiment_rows(300, seed=0))]  # distinct texts
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    one = [write_jsonl(tmp_path / "a" / "all.jsonl", rows)]
    three = _shards(tmp_path / "b", rows[::-1], 3)
    valid, train = _side(one, True), _side(one, False)
    assert valid == _side(three, True) and train == _side(three, False)
    assert not set(valid) & set(train) and len(valid) + len(train) == 300
    assert 0.12 < len(valid) / 300 < 0.28


def test_files_globs_lists_and_a_pattern_that_matches_nothing(tmp_path):
    files = _shards(tmp_path, sentiment_rows(20), 3)
    assert expand_files(str(tmp_path / "s*.jsonl")) == files
    assert expand_files(f"{files[2]},{files[0]}") == [files[2], files[0]]
    with pytest.raises(DataError, match="nothing-\\*.jsonl: no file matches this pattern"):
        expand_files(str(tmp_path / "nothing-*.jsonl"))


def test_each_worker_gets_every_nth_file_when_there_are_enough(monkeypatch):
    cluster = {"worker": ["a:1", "b:2"]}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 1}}))
    assert shard_files(["f0", "f1", "f2", "f3"]) == (["f1", "f3"], True)
    assert shard_files(["f0"]) == (["f0"], False)  # fewer files than workers: sharded by data instead
    monkeypatch.delenv("TF_CONFIG")
    assert shard_files(["f0", "f1"]) == (["f0", "f1"], False)


def test_the_sample_takes_the_files_in_turn(tmp_path):
    negative = write_jsonl(tmp_path / "neg.jsonl", [{"text": f"bad {i}", "label": 0} for i in range(50)])
    positive = write_jsonl(tmp_path / "pos.jsonl", [{"text": f"good {i}", "label": 1} for i in range(50)])
    sample = round_robin((labelled_rows(path, "text", "label") for path in (negative, positive)), 10)
    assert sample[:4] == [("bad 0", "0"), ("good 0", "1"), ("bad 1", "0"), ("good 1", "1")] and len(sample) == 10


def _train(*args):
    return CliRunner().invoke(cli, ["train", *[str(a) for a in args]], catch_exceptions=False)


def test_streamed_training_learns_and_a_bad_line_met_in_a_later_epoch_loses_nothing(tmp_path):
    files = _shards(tmp_path, sentiment_rows(240, seed=0), 4)
    run_dir = tmp_path / "run"
    common = ["--run-dir", run_dir, "--train-file", str(tmp_path / "s*.jsonl"), "--pipeline", "stream",
              "--vocabulary-sample", 40, "--learning-rate", 0.02, *SENTIMENT_SMALL]
    result = _train(*common, "--epochs", 2)
    assert result.exit_code == 0, result.output
    assert "streaming 4 training file(s); validation carved by a hash of the text" in result.output
    rows = list(csv.DictReader(open(run_dir / "metrics.csv")))
    assert [int(r["epoch"]) for r in rows] == [0, 1] and float(rows[-1]["val_accuracy"]) > 0.8
    checkpoint = (run_dir / "checkpoints" / "best.keras").read_bytes()
    with open(files[3], "a") as handle:  # met only while epoch 3 streams: beyond the vocabulary sample
        handle.write("{not json\n")
    result = _train(*common, "--epochs", 3)
    lines = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert result.exit_code != 0 and lines == [f"Error: {files[3]}:61: not valid JSON (Expecting property name "
                                               f"enclosed in double quotes at column 2)"], result.output
    assert [int(r["epoch"]) for r in csv.DictReader(open(run_dir / "metrics.csv"))] == [0, 1]
    assert (run_dir / "checkpoints" / "best.keras").read_bytes() == checkpoint and (run_dir / "model.keras").exists()


def test_ner_streams_conll_shards_and_names_a_tag_it_never_sampled(tmp_path):
    from apps.ner.cli import cli as ner
    from tests.fixtures import NER_SMALL, ner_sentences, write_conll

    sentences = ner_sentences(240, seed=0)
    files = [write_conll(tmp_path / f"part-{i}.txt", sentences[i::3]) for i in range(3)]
    common = ["train", "--run-dir", tmp_path / "run", "--train-file", str(tmp_path / "part-*.txt"), "--pipeline",
              "stream", "--vocabulary-sample", 30, *NER_SMALL]
    result = CliRunner().invoke(ner, [str(a) for a in common + ["--epochs", 3]], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "streaming 3 training file(s); validation carved by a hash of the sentence" in result.output
    assert "vocabularies from 30 sentences" in result.output
    rows = list(csv.DictReader(open(tmp_path / "run" / "metrics.csv")))
    assert float(rows[-1]["val_f1"]) > 0.8, rows[-1]
    with open(files[2], "a") as handle:
        handle.write("\nParis NNP I-NP I-CITY\n")
    lines = sum(1 for _ in open(files[2]))
    result = CliRunner().invoke(ner, [str(a) for a in common + ["--epochs", 4]], catch_exceptions=False)
    assert result.exit_code != 0
    assert f"Error: {files[2]}:{lines}: entity type of 'B-CITY' never occurs in the training sample" in result.output
    assert len(list(csv.DictReader(open(tmp_path / "run" / "metrics.csv")))) == 3


def test_translation_streams_pair_shards_carved_by_source_sentence(tmp_path):
    from apps.translation.cli import cli as translation
    from datasets.dates import date_pairs

    pairs = date_pairs(600, seed=0)
    pairs += [(source.upper(), target) for source, target in pairs[:50]]  # the same sources, other case
    for i in range(3):
        (tmp_path / f"pairs-{i}.tsv").write_text("".join(f"{s}\t{t}\n" for s, t in pairs[i::3]))
    common = ["train", "--run-dir", tmp_path / "run", "--train-file", str(tmp_path / "pairs-*.tsv"), "--pipeline",
              "stream", "--level", "char", "--units", 16, "--embedding-dim", 8, "--batch-size", 32]
    result = CliRunner().invoke(translation, [str(a) for a in common + ["--epochs", 2]], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "streaming 3 training file(s); validation carved by source sentence" in result.output
    rows = list(csv.DictReader(open(tmp_path / "run" / "metrics.csv")))
    assert float(rows[1]["val_loss"]) < float(rows[0]["val_loss"])
    from apps.translation.data import _pairs, source_key
    from datasets.streaming import carved_sources

    train, valid = carved_sources(str(tmp_path / "pairs-*.tsv"), None, 0.05, 0)
    options = {"source_column": 0, "target_column": 1}
    train_keys = {source_key(p) for f in train.files for p in _pairs(options, f, train.keep)}
    valid_keys = {source_key(p) for f in valid.files for p in _pairs(options, f, valid.keep)}
    assert valid_keys and not train_keys & valid_keys  # "JAN 5, 2001" and "jan 5, 2001" on one side
    result = CliRunner().invoke(translation, [str(a) for a in common + ["--valid-split", "random", "--run-dir",
                                                                        tmp_path / "r2"]])
    assert result.exit_code != 0 and "use --valid-split by-source" in result.output


def test_a_sample_with_one_label_says_why(tmp_path):
    rows = [{"text": f"bad {i}", "label": 0} for i in range(30)] + [{"text": f"good {i}", "label": 1}
                                                                    for i in range(30)]
    sorted_file = write_jsonl(tmp_path / "sorted.jsonl", rows)
    result = _train("--run-dir", tmp_path / "run", "--train-file", sorted_file, "--pipeline", "stream",
                    "--vocabulary-sample", 20, *SENTIMENT_SMALL)
    assert result.exit_code != 0 and "all have the label '0': shuffle files sorted by label" in result.output
    assert not (tmp_path / "run").exists()


def _names(count, seed):
    import random

    rng = random.Random(seed)
    return ["".join(rng.choice("abcdef") for _ in range(rng.randint(2, 8))) for _ in range(count)]


def test_textgen_streams_name_shards_scores_what_training_saw_and_marks_copies_without_holding_them(tmp_path):
    from apps.textgen.cli import cli as textgen

    names = _names(600, seed=0)
    for i in range(3):
        (tmp_path / f"names-{i}.txt").write_text("".join(f"{n}\n" for n in names[i::3]))
    run_dir = tmp_path / "run"
    result = CliRunner().invoke(textgen, ["train", "--run-dir", str(run_dir), "--train-file",
                                          str(tmp_path / "names-*.txt"), "--pipeline", "stream", "--units", "16",
                                          "--layers", "1", "--epochs", "2", "--vocabulary-sample", "100"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "streaming 3 training file(s); validation carved by a hash of the example; 9 char tokens from 100 " \
           "sampled examples" in result.output
    rows = list(csv.DictReader(open(run_dir / "metrics.csv")))
    assert float(rows[1]["val_loss"]) < float(rows[0]["val_loss"])
    result = CliRunner().invoke(textgen, ["evaluate", "--run-dir", str(run_dir)], catch_exceptions=False)
    scored = json.loads((run_dir / "evaluation.json").read_text())
    assert scored["nll_per_token"] == pytest.approx(float(rows[-1]["val_loss"]), abs=1e-4)
    # validation: the names whose hash falls in the carve, end marks included
    valid = [n for n in names if in_validation(n, 0.1, 0)]
    assert scored["tokens"] == sum(len(n) + 1 for n in valid) and 0 < len(valid) < 100

    from apps.common.app import load_run
    from apps.textgen.cli import APP
    from apps.textgen.data import training_copies

    trained = load_run(APP, run_dir)
    asked = [names[0], names[5], "zzz", valid[0]]
    assert training_copies(trained.options, asked) == {n for n in asked[:2] if not in_validation(n, 0.1, 0)}


def test_textgen_streamed_windows_are_the_in_memory_windows(tmp_path):
    """Running text cut as it streams gives the rows `text_to_windows` cuts from the whole text."""
    import numpy as np

    from datasets import textgen

    text = "the cat sat\non the mat\nand the dog\n" * 7
    for level, window in (("char", 10), ("word", 4)):
        vocabulary = textgen.build_vocabulary([text], level)
        index = {t: i for i, t in enumerate(vocabulary)}
        x, y = textgen.text_to_windows(text, index, level, window)
        path = tmp_path / f"{level}.txt"
        path.write_text(text)
        dataset = textgen.make_streaming_dataset([str(path)], lambda p: textgen.iter_windows(p, level, window),
                                                 vocabulary, level=level, mode="text", max_length=window,
                                                 batch_size=1000, shuffle_buffer=0, seed=0)
        rows = sorted((tuple(a), tuple(b)) for bx, by in dataset for a, b in zip(bx.numpy(), by.numpy()))
        assert rows == sorted((tuple(a), tuple(b)) for a, b in zip(x, y)), level
        assert np.count_nonzero(y) == len(textgen.tokens_of(text, level)) - 1


def test_textgen_stream_names_a_bad_line_with_its_file_and_line(tmp_path):
    from apps.textgen.cli import cli as textgen

    good = tmp_path / "a.txt"
    good.write_text("".join(f"{n}\n" for n in _names(200, seed=1)))
    bad = tmp_path / "b.txt"
    bad.write_bytes(b"abc\nde\xff\n")
    result = CliRunner().invoke(textgen, ["train", "--run-dir", str(tmp_path / "run"), "--train-file",
                                          f"{good},{bad}", "--pipeline", "stream", "--units", "8", "--layers", "1",
                                          "--epochs", "1"])
    assert result.exit_code != 0
    assert [line for line in result.output.splitlines() if line.startswith("Error")] == \
        [f"Error: {bad}:2: not valid UTF-8 (byte 3 of the line)"], result.output


@pytest.mark.parametrize("representation", ["abc", "events"])
def test_music_streams_the_parsed_tunes_carved_by_a_hash_of_each_tune_in_the_windows_memory_cuts(
        tune_folder, tmp_path, representation):
    import numpy as np

    from apps.common.options import RunOptions
    from apps.music.cli import cli as music
    from apps.music.config import DEFAULTS
    from apps.music.data import augment, music_files, read_tunes, stream_windows, windows

    run_dir = tmp_path / "run"
    common = ["--run-dir", str(run_dir), "--data-dir", str(tune_folder), "--pipeline", "stream", "--representation",
              representation, "--transpositions", "1", "--valid-fraction", "0.4", "--units", "8", "--layers", "1",
              "--window", "16"]
    result = CliRunner().invoke(music, ["train", *common, "--epochs", "2"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    moved = " (with transpositions)" if representation == "events" else ""
    assert f"streaming 5 training file(s){moved}; validation carved by a hash of the tune" in result.output
    assert "1 of 5 files could not be parsed and were skipped" in result.output  # broken.mid, as in memory
    options = RunOptions({**DEFAULTS, **json.loads((run_dir / "config.json").read_text())["options"]})
    tunes = read_tunes(options, echo=lambda *a, **k: None)
    valid = [t for t in tunes if in_validation(" ".join(t[1]), 0.4, 0)]
    train = [t for t in tunes if not in_validation(" ".join(t[1]), 0.4, 0)]
    assert 0 < len(valid) < len(tunes)

    CliRunner().invoke(music, ["evaluate", "--run-dir", str(run_dir)], catch_exceptions=False)
    scored = json.loads((run_dir / "evaluation.json").read_text())
    assert (scored["tunes"], scored["events"]) == (len(valid), sum(len(tokens) for _, tokens in valid))

    from apps.common.app import load_run
    from apps.music.cli import APP

    index = load_run(APP, run_dir).encoders
    moves = 1 if representation == "events" else 0
    streamed = stream_windows(options, index, music_files(options), lambda tune: tune in train, transpositions=moves)
    rows = sorted(tuple(np.concatenate([a, b])) for x, y in streamed for a, b in zip(x.numpy(), y.numpy()))
    x, y = windows(augment(train, moves) if moves else train, index, 16)
    assert rows == sorted(tuple(np.concatenate([a, b])) for a, b in zip(x, y))


def test_streamed_runs_evaluate_a_test_file_as_it_streams_with_the_figures_of_the_in_memory_reader(tmp_path):
    import dataclasses

    from apps.common.app import load_run
    from apps.common.options import RunOptions
    from apps.ner.cli import APP as NER, cli as ner
    from apps.ner.evaluate import evaluate_run as ner_scores
    from apps.sentiment.cli import APP as SENTIMENT
    from apps.sentiment.evaluate import evaluate_run as sentiment_scores
    from tests.fixtures import NER_SMALL, ner_sentences, write_conll

    def in_memory(trained):
        return dataclasses.replace(trained, options=RunOptions({**trained.options, "pipeline": "memory"}))

    # sentiment
    files = _shards(tmp_path, sentiment_rows(200, seed=3), 3)  # labels alternate: every third row mixes them
    result = _train("--run-dir", tmp_path / "s", "--train-file", files[0], "--pipeline", "stream", "--epochs", 1,
                    *SENTIMENT_SMALL)
    assert result.exit_code == 0, result.output
    trained = load_run(SENTIMENT, tmp_path / "s")
    streamed, read_whole = sentiment_scores(trained, test_file=files[1]), sentiment_scores(in_memory(trained),
                                                                                         test_file=files[1])
    assert streamed["examples"] == read_whole["examples"] == 67
    assert streamed["confusion_matrix"] == read_whole["confusion_matrix"]
    assert streamed["roc_auc"] == pytest.approx(read_whole["roc_auc"], abs=1e-6)
    with open(files[1], "a") as handle:
        handle.write('{"text": "fine", "label": 7}\n')
    out = CliRunner().invoke(cli, ["evaluate", "--run-dir", str(tmp_path / "s"), "--test-file", files[1]])
    assert out.exit_code != 0 and [line for line in out.output.splitlines() if line.startswith("Error")] == \
        [f"Error: {files[1]}:68: label '7' is not one of the known labels ['0', '1']"], out.output

    # NER
    sentences = ner_sentences(160, seed=1)
    train, test = write_conll(tmp_path / "train.txt", sentences[:120]), write_conll(tmp_path / "test.txt",
                                                                                  sentences[120:])
    result = CliRunner().invoke(ner, ["train", "--run-dir", str(tmp_path / "n"), "--train-file", train,
                                      "--pipeline", "stream", "--epochs", "1", *map(str, NER_SMALL)])
    assert result.exit_code == 0, result.output
    trained = load_run(NER, tmp_path / "n")
    streamed, read_whole = ner_scores(trained, test_file=test), ner_scores(in_memory(trained), test_file=test,
                                                                           stories=False)
    assert streamed == read_whole  # a stream tags each sentence alone: the in-memory reader without --stories
    with_stories = ner_scores(in_memory(trained), test_file=test)
    assert with_stories["stories"] == 1 and with_stories["each_sentence_alone"] == {
        k: v for k, v in streamed.items() if k != "data"}
    with open(test, "a") as handle:
        handle.write("\nParis NNP I-NP I-CITY\n")
    lines = sum(1 for _ in open(test))
    out = CliRunner().invoke(ner, ["evaluate", "--run-dir", str(tmp_path / "n"), "--test-file", test])
    assert out.exit_code != 0 and f"Error: {test}:{lines}: entity type of 'B-CITY' never occurs in the training " \
                                  "sample" in out.output, out.output


def _tiny_reviews_builder():
    """A tensorflow-datasets builder of made-up reviews, prepared offline from code: real TFRecord shards."""
    import tensorflow_datasets as tfds

    class TinyReviews(tfds.core.GeneratorBasedBuilder):
        """Made-up reviews for the tests (train 240, test 60)."""

        VERSION = tfds.core.Version("1.0.0")

        def _info(self):
            return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
                "text": tfds.features.Text(), "label": tfds.features.ClassLabel(names=["neg", "pos"])}),
                supervised_keys=("text", "label"))

        def _split_generators(self, dl_manager):
            return {"train": self._generate_examples(240, 0), "test": self._generate_examples(60, 1)}

        def _generate_examples(self, count, seed):
            for i, row in enumerate(sentiment_rows(count, seed=seed)):
                yield i, {"text": f"{row['text']} {seed}-{i}", "label": int(row["label"])}

    return TinyReviews


def test_sentiment_streams_a_tfds_split_from_its_shards_carved_by_a_hash_computed_in_the_graph(tmp_path, monkeypatch):
    import tensorflow as tf

    from apps.common.app import load_run
    from apps.sentiment.cli import APP
    from apps.sentiment.evaluate import evaluate_run
    from datasets.streaming import tf_in_validation
    from datasets.tfds_loader import load_tfds

    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    _tiny_reviews_builder()(data_dir=str(tmp_path / "tfds")).download_and_prepare()  # a prepared copy, as users have
    run_dir = tmp_path / "run"
    result = _train("--run-dir", run_dir, "--dataset", "tiny_reviews", "--pipeline", "stream", "--valid-fraction",
                    0.25, "--epochs", 2, "--learning-rate", 0.02, *SENTIMENT_SMALL)
    assert result.exit_code == 0, result.output
    assert "streaming tfds:tiny_reviews/train from its file shards; validation carved by a hash of the text" \
        in result.output
    texts = [text for text, _ in load_tfds("tiny_reviews", "train").as_numpy_iterator()]
    in_valid = [bool(tf_in_validation(tf.constant(t), 0.25, 1)) for t in texts]  # SENTIMENT_SMALL's seed
    assert 30 < sum(in_valid) < 90  # about a quarter of 240
    trained = load_run(APP, run_dir)
    from apps.sentiment.data import _streaming_datasets, read_training_data

    data = read_training_data(trained.options)
    train, valid, _ = _streaming_datasets(trained.options, trained.encoders, data)
    assert sum(int(tf.shape(y)[0]) for _, y in valid) == sum(in_valid)
    assert sum(int(tf.shape(y)[0]) for _, y in train) == len(texts) - sum(in_valid)
    sides = {side: {text for text, _ in source.examples(lambda text, label: text).as_numpy_iterator()}
             for side, source in (("train", data.train), ("valid", data.valid))}
    assert sides["valid"] == {t for t, v in zip(texts, in_valid) if v}  # every text ends with its own number
    assert sides["train"] == {t for t, v in zip(texts, in_valid) if not v}
    scored = evaluate_run(trained, dataset="tiny_reviews", split="test")
    assert scored["examples"] == 60 and scored["data"] == "tfds:tiny_reviews/test" and scored["accuracy"] > 0.8


def _tiny_ner_builder():
    """A tensorflow-datasets NER builder (conll2003's features) of made-up IOB1 sentences, prepared offline."""
    import tensorflow_datasets as tfds

    from tests.fixtures import ner_sentences

    names = ["O", "I-PER", "I-LOC", "I-ORG", "B-PER", "B-LOC", "B-ORG"]

    class TinyNer(tfds.core.GeneratorBasedBuilder):
        """Made-up tagged sentences for the tests (train 200, validation 40, test 40)."""

        VERSION = tfds.core.Version("1.0.0")

        def _info(self):
            return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
                "tokens": tfds.features.Sequence(tfds.features.Text()),
                "ner": tfds.features.Sequence(tfds.features.ClassLabel(names=names))}))

        def _split_generators(self, dl_manager):
            return {"train": self._generate_examples(200, 0), "validation": self._generate_examples(40, 1),
                    "test": self._generate_examples(40, 2)}

        def _generate_examples(self, count, seed):
            for i, (tokens, tags) in enumerate(ner_sentences(count, seed=seed)):
                yield i, {"tokens": tokens, "ner": tags}

    return TinyNer


def test_ner_streams_tfds_splits_from_their_shards_with_the_figures_of_the_in_memory_reader(tmp_path, monkeypatch):
    import dataclasses

    from apps.common.app import load_run
    from apps.common.options import RunOptions
    from apps.ner.cli import APP, cli as ner
    from apps.ner.evaluate import evaluate_run
    from tests.fixtures import NER_SMALL

    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    _tiny_ner_builder()(data_dir=str(tmp_path / "tfds")).download_and_prepare()
    result = CliRunner().invoke(ner, ["train", "--run-dir", str(tmp_path / "run"), "--dataset", "tiny_ner",
                                      "--pipeline", "stream", "--epochs", "3", *map(str, NER_SMALL)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "streaming tfds:tiny_ner/train from its file shards; validation tfds:tiny_ner/validation; " \
           "vocabularies from 200 sentences (IOB1 converted to IOB2)" in result.output
    rows = list(csv.DictReader(open(tmp_path / "run" / "metrics.csv")))
    assert float(rows[-1]["val_f1"]) > 0.8, rows[-1]
    trained = load_run(APP, tmp_path / "run")
    streamed = evaluate_run(trained, dataset="tiny_ner", split="test")
    read_whole = evaluate_run(dataclasses.replace(trained, options=RunOptions({**trained.options,
                                                                               "pipeline": "memory"})),
                              dataset="tiny_ner", split="test")
    assert streamed == read_whole and streamed["data"] == "tfds:tiny_ner/test"


def test_translation_streams_a_tfds_split_carved_by_source_sentence_as_files_are(tmp_path, monkeypatch):
    import tensorflow_datasets as tfds

    from apps.translation.cli import cli as translation
    from apps.translation.data import _pairs, read_training_data, source_key
    from apps.translation.config import DEFAULTS
    from datasets.dates import date_pairs

    pairs = date_pairs(300, seed=0)
    pairs += [(source.upper(), target) for source, target in pairs[:30]]  # the same sources, other case

    class TinyPairs(tfds.core.GeneratorBasedBuilder):
        """Made-up sentence pairs for the tests: a train split only."""

        VERSION = tfds.core.Version("1.0.0")

        def _info(self):
            return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
                "en": tfds.features.Text(), "xx": tfds.features.Text()}), supervised_keys=("en", "xx"))

        def _split_generators(self, dl_manager):
            return {"train": self._generate_examples()}

        def _generate_examples(self):
            for i, (source, target) in enumerate(pairs):
                yield i, {"en": source, "xx": target}

    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    TinyPairs(data_dir=str(tmp_path / "tfds")).download_and_prepare()
    common = ["train", "--run-dir", tmp_path / "run", "--dataset", "tiny_pairs", "--pipeline", "stream",
              "--valid-fraction", 0.2, "--level", "char", "--units", 16, "--embedding-dim", 8, "--batch-size", 32]
    result = CliRunner().invoke(translation, [str(a) for a in common + ["--epochs", 1]], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "validation carved by source sentence (a stable hash)" in result.output
    options = {**DEFAULTS, "dataset": "tiny_pairs", "pipeline": "stream", "valid_fraction": 0.2}
    data = read_training_data(options)
    train = [p for f in data.train.files for p in _pairs(options, f, data.train.keep)]
    valid = [p for f in data.valid.files for p in _pairs(options, f, data.valid.keep)]
    assert sorted(train + valid) == sorted(pairs) and 30 < len(valid) < 100
    assert not {source_key(p) for p in train} & {source_key(p) for p in valid}
