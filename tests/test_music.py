"""apps.music: events, cache, splits, generation, export and the polyphonic benchmark on tiny data."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from apps.music.cli import cli
from apps.music.data import split_tunes
from datasets import music
from datasets.errors import DataError
from datasets.polyphonic import read_piano_rolls


def test_abc_writer_round_trips_through_music21():
    from music21 import converter

    tokens = ["60_1.0", "r_0.5", "73_0.25", "48_2.0", "84_0.75", "59_4.0", "r_1.5", "96_0.5", "36_3.0",
              "66_0.5", "65_0.5", "66_1.0", "66_0.5", "65_4.0"]
    abc = music.to_abc(tokens)
    assert music.score_events(converter.parseData(abc, format="abc")) == tokens  # ties read back as one event
    body = abc.split("K:C\n")[1]
    bars = [bar.split() for line in body.splitlines() for bar in line.split("|") if bar.strip()]
    units = [sum(int("".join(c for c in note.rstrip("-").lstrip("^=_") if c.isdigit()) or 1) for note in bar)
             for bar in bars]
    assert units[:-1] == [16] * (len(units) - 1) and 0 < units[-1] <= 16  # whole 4/4 bars, the last may be short
    # An accidental lasts to the end of its bar in ABC, though music21 reads each note alone: both get it right.
    assert "^F2 =F2 ^F4 ^F2 |\nF16 |" in abc


def test_cache_skips_failures_and_is_keyed_by_content(tune_folder, tmp_path, monkeypatch):
    files = music.folder_files(str(tune_folder))
    tunes, failures = music.load_tunes(files, cache_dir=tmp_path)
    assert len(tunes) == 12 and len(failures) == 1 and failures[0][0].endswith("broken.mid")
    monkeypatch.setattr(music, "parse_file", lambda path: pytest.fail(f"parsed {path} again"))
    parsed = [f for f in files if f.endswith(".abc")]  # failures are not cached: the user may fix them
    again, _ = music.load_tunes(parsed, cache_dir=tmp_path)
    assert again == tunes
    assert music.load_tunes(parsed, cache_dir=tmp_path, limit=5)[0] == tunes[:5]


def test_split_is_by_tune_and_transposition_stays_in_range():
    tunes = [(f"t{i}", ["60_1.0", f"{60 + i}_0.5"]) for i in range(20)]
    train, valid = split_tunes(tunes, 0.2, seed=1)
    assert len(valid) == 4 and not {t for t, _ in train} & {t for t, _ in valid}
    assert music.transpose(["60_1.0", "r_0.5"], 2) == ["62_1.0", "r_0.5"]
    assert music.transpose(["95_1.0"], 3) is None


def test_unknown_corpus_and_missing_folder_are_user_errors(tmp_path):
    with pytest.raises(DataError, match="unknown collection"):
        music.corpus_files("beatles")
    with pytest.raises(DataError, match="no such directory"):
        music.folder_files(str(tmp_path / "none"))


@pytest.fixture
def trained(music_trained):
    run_dir, output = music_trained
    assert "1 of 5 files could not be parsed" in output
    return run_dir


@pytest.mark.tf_only
def test_validation_events_unseen_in_training_are_scored_as_unknown():
    from apps.music.data import UNKNOWN, make_encoders, unseen_events, vocabulary_of, windows

    train = [("a", ["n60_1.0", "n62_1.0", "n60_1.0"])]
    valid = [("b", ["n60_1.0", "n99_0.5", "n62_1.0"])]
    vocabulary = vocabulary_of(train)
    assert vocabulary[-1] == UNKNOWN
    index = make_encoders(None, {"events": vocabulary})
    x, y = windows(valid, index, 8)
    assert y[0].tolist()[:3] == [index["n60_1.0"], index[UNKNOWN], index["n62_1.0"]]  # nothing dropped
    assert unseen_events(valid, index) == 1
    # A run made before [UNK] existed: its vocabulary lacks it, and the unseen event is left out (and counted).
    old = make_encoders(None, {"events": vocabulary[:-1]})
    assert windows(valid, old, 8)[1][0].tolist()[:3] == [old["n60_1.0"], old["n62_1.0"], 0]


def test_evaluate_and_seeded_generation(trained, tmp_path):
    result = CliRunner().invoke(cli, ["evaluate", "--run-dir", str(trained)])
    assert result.exit_code == 0, result.output
    scores = json.loads((trained / "evaluation.json").read_text())
    assert scores["nll_per_event"] > 0 and 0 <= scores["accuracy"] <= 1
    assert scores["unseen_scored"] and "unseen in training" in result.output
    assert scores["perplexity"] == pytest.approx(np.exp(scores["nll_per_event"]))

    def generate(prefix, seed, primer=None):
        args = ["generate", "--run-dir", str(trained), "--length", "24", "--seed", str(seed), "--top-k", "10",
                "--output", str(tmp_path / prefix)] + (["--primer", primer] if primer else [])
        out = CliRunner().invoke(cli, args)
        assert out.exit_code == 0, out.output
        return {s: (tmp_path / f"{prefix}.{s}").read_bytes() for s in ("mid", "abc", "png", "svg")}

    first, second, other = generate("a", 5), generate("b", 5), generate("c", 6)
    assert first == second  # byte-identical for one seed
    assert first["abc"] != other["abc"]
    from music21 import converter

    from datasets.tunes import tune_tokens

    pitches = [60, 62, 64, 65, 67, 69, 71, 72, 74, 72, 71, 69, 67, 65, 64, 62]
    primer = music.to_abc([f"{p}_0.5" for p in pitches * 2], "Primer")  # four whole bars of C major
    primed = generate("d", 5, primer=primer)
    abc = primed["abc"].decode()
    assert abc.startswith("X:1\nT:seqapps seed 5\nM:4/4\nL:1/16\nK:D\n")  # a major tune, in D unless asked
    vocabulary = set((trained / "vocabulary" / "events.txt").read_text().split("\n"))
    expected = [t for t in tune_tokens(converter.parseData(primer, format="abc")) if t in vocabulary]
    produced = tune_tokens(converter.parseData(abc, format="abc"))  # read back and moved to C again
    assert len(expected) > 12 and produced[: len(expected)] == expected
    assert len(produced) <= len(expected) + 24
    # Asked for a meter and a key: the header says so, and the model went on from there.
    keyed = CliRunner().invoke(cli, ["generate", "--run-dir", str(trained), "--meter", "4/4", "--key", "G",
                                     "--seed", "2", "--output", str(tmp_path / "k")])
    assert keyed.exit_code == 0, keyed.output
    assert "\nM:4/4\nL:1/16\nK:G\n" in (tmp_path / "k.abc").read_text()
    for option, value, message in (("--meter", "7/8", "the run knows 4/4"), ("--key", "Hdor", "give a tonic"),
                                   ("--key", "Cb", "tonic Cb is not one of"),
                                   ("--key", "Dlyd", "the run knows the modes maj")):
        refused = CliRunner().invoke(cli, ["generate", "--run-dir", str(trained), option, value,
                                           "--output", str(tmp_path / "x")])
        assert refused.exit_code != 0 and message in refused.output, refused.output
    bad = CliRunner().invoke(cli, ["generate", "--run-dir", str(trained), "--primer", "no such thing",
                                   "--output", str(tmp_path / "x")])
    assert bad.exit_code != 0 and "--primer" in bad.output


def test_generated_tune_is_engraved_and_played(tmp_path):
    import shutil
    import wave

    from apps.music.generate import write_outputs
    from apps.music.render import soundfont

    tokens = ["62_0.5", "66_0.5", "69_0.5", "74_1.0", "r_0.5", "73_0.25", "71_0.25", "69_0.5"] * 4  # 4 bars
    written, missing = write_outputs(str(tmp_path / "t"), music.to_abc(tokens, "Test"), tokens, "Test")
    svg = (tmp_path / "t.svg").read_text()
    assert all(oct((tmp_path / f"t.{s}").stat().st_mode)[-3:] != "600" for s in ("abc", "svg"))  # not private
    assert svg.lstrip().startswith(("<svg", "<?xml")) and "Test" in svg and svg.count('class="measure"') == 4
    if not (shutil.which("fluidsynth") and soundfont()):
        # Without the system packages (apt-packages.txt, which .ci/run installs where it may), the one line
        # that says so; the synthesiser's invocation is checked with a stand-in below either way.
        assert [m for m in missing if m.startswith("no audio: ")] == missing and len(missing) == 1
        return
    assert missing == [] and str(tmp_path / "t.wav") in written
    with wave.open(str(tmp_path / "t.wav")) as audio:
        sound_length = audio.getnframes() / audio.getframerate()  # of the audio, not a timing
        assert audio.getframerate() == 44100 and audio.getsampwidth() == 2
    assert 8 <= sound_length <= 8 + 4  # 16 quarter notes at 120 per minute, and the last note's release


def test_audio_is_rendered_by_fluidsynth_with_the_soundfont(tmp_path, monkeypatch):
    """Our call of FluidSynth, with a stand-in program on PATH: arguments, the soundfont, the file it writes."""
    import json
    import stat
    import sys

    from apps.music.render import synthesise

    stand_in = tmp_path / "bin" / "fluidsynth"
    stand_in.parent.mkdir()
    stand_in.write_text(f"""#!{sys.executable}
import json, sys, wave
args = sys.argv[1:]
json.dump(args, open({str(tmp_path / "args.json")!r}, "w"))
with wave.open(args[args.index("-F") + 1], "wb") as out:
    out.setnchannels(2); out.setsampwidth(2); out.setframerate(44100); out.writeframes(bytes(4 * 441))
""")
    stand_in.chmod(stand_in.stat().st_mode | stat.S_IEXEC)
    font = tmp_path / "gm.sf2"
    font.write_bytes(b"RIFF")
    monkeypatch.setenv("PATH", str(stand_in.parent))
    monkeypatch.setenv("SEQAPPS_SOUNDFONT", str(font))
    (tmp_path / "t.mid").write_bytes(b"MThd")
    assert synthesise(str(tmp_path / "t.mid"), str(tmp_path / "t.wav")) is None
    args = json.loads((tmp_path / "args.json").read_text())
    assert args[-2:] == [str(font), str(tmp_path / "t.mid")] and args[args.index("-r") + 1] == "44100"
    assert args[args.index("-F") + 1] == str(tmp_path / "t.wav.partial")  # renamed into place when done
    assert (tmp_path / "t.wav").read_bytes()[:4] == b"RIFF" and not (tmp_path / "t.wav.partial").exists()
    monkeypatch.setenv("SEQAPPS_SOUNDFONT", str(tmp_path / "none.sf2"))
    assert synthesise(str(tmp_path / "t.mid"), str(tmp_path / "u.wav")).startswith("no audio: no General MIDI soundfont")


def test_missing_engraver_and_synthesiser_are_one_line_each_and_the_rest_is_written(tmp_path, monkeypatch, trained):
    import sys

    monkeypatch.setitem(sys.modules, "verovio", None)  # import fails
    monkeypatch.setenv("PATH", str(tmp_path))  # no fluidsynth
    result = CliRunner().invoke(cli, ["generate", "--run-dir", str(trained), "--length", "16",
                                          "--output", str(tmp_path / "g")])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "no engraving: verovio is not installed (pip install verovio)",
        "no audio: FluidSynth is not installed (sudo apt-get install $(cat apt-packages.txt))"]
    assert result.stdout.split() == [str(tmp_path / f"g.{s}") for s in ("abc", "mid", "png")]


def test_piano_roll_errors_name_sequence_and_step(tmp_path):
    path = tmp_path / "bad.train.json"
    path.write_text(json.dumps([[[60, 64], [], [200]]]))
    with pytest.raises(DataError, match=r"bad.train.json: sequence 0, step 2: pitch 200 is not a piano key"):
        read_piano_rolls(str(path))
    path.write_text("[[[60]]")
    with pytest.raises(DataError, match="not valid JSON"):
        read_piano_rolls(str(path))


@pytest.mark.tf_only
def test_polyphonic_benchmark_reports_nll_per_step(tmp_path):
    rng = np.random.default_rng(0)
    for split, n in (("train", 12), ("valid", 4)):
        rolls = [[sorted({int(p) for p in rng.integers(48, 72, size=3)}) for _ in range(int(rng.integers(10, 30)))]
                 for _ in range(n)]
        (tmp_path / f"jsb_chorales.{split}.json").write_text(json.dumps(rolls))
    result = CliRunner().invoke(cli, ["benchmark", "--run-dir", str(tmp_path / "bench"), "--dataset",
                                      "jsb_chorales", "--data-dir", str(tmp_path), "--cell", "lstm", "--epochs", "2",
                                      "--optimizer", "rmsprop", "--weight-noise", "0.05"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    evaluation = json.loads((tmp_path / "bench" / "jsb_chorales-lstm-36" / "evaluation.json").read_text())
    assert evaluation["optimizer"] == "rmsprop" and evaluation["weight_noise"] == 0.05
    # Untrained, each key costs about log 2 nats: 88 keys, so NLL/step is at most a few tens.
    assert 0 < evaluation["valid_nll_per_step"] < 88 * np.log(2) + 1
    table = (tmp_path / "bench" / "benchmark.md").read_text()
    assert "| jsb_chorales | lstm | 36 |" in table and "8.67" in table and "| rmsprop, weight noise 0.05 |" in table
    assert (tmp_path / "bench" / "jsb_chorales-lstm-36.png").read_bytes()[:4] == b"\x89PNG"
    # The joint (autoregressive) output: same report, its own row, no Chung et al. reference.
    result = CliRunner().invoke(cli, ["benchmark", "--run-dir", str(tmp_path / "bench"), "--dataset",
                                      "jsb_chorales", "--data-dir", str(tmp_path), "--cell", "gru", "--units", "8",
                                      "--output-layer", "autoregressive", "--output-units", "6", "--epochs", "1",
                                      "--name", "joint"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    joint = json.loads((tmp_path / "bench" / "joint" / "evaluation.json").read_text())
    assert joint["output_layer"] == "autoregressive" and 0 < joint["valid_nll_per_step"] < 88 * np.log(2) + 1
    row = next(line for line in (tmp_path / "bench" / "benchmark.md").read_text().splitlines()
               if "autoregressive 6" in line)
    assert row.startswith("| jsb_chorales | gru | 8 | 1 | autoregressive 6 |") and row.endswith("| - |")


def test_training_pieces_cover_every_step_once_as_a_target():
    from datasets.polyphonic import windows

    roll = np.arange(11 * 88, dtype="float32").reshape(11, 88)
    pieces = windows([roll, roll[:2]], 4)
    assert [len(p) for p in pieces] == [5, 5, 3, 2]
    targets = np.concatenate([p[1:] for p in pieces[:3]])
    np.testing.assert_array_equal(targets, roll[1:])  # steps 1..10, each once
    np.testing.assert_array_equal(pieces[1][0], roll[4])  # a piece starts where the last one's inputs ended


def test_benchmark_run_name_must_be_a_plain_folder(tmp_path):
    result = CliRunner().invoke(cli, ["benchmark", "--run-dir", str(tmp_path), "--dataset", "jsb_chorales",
                                      "--data-dir", str(tmp_path), "--cell", "gru", "--name", "../elsewhere"])
    assert result.exit_code != 0 and "give a plain folder name" in result.output
    assert not (tmp_path.parent / "elsewhere").exists()


def _random_rolls(rng, lengths):
    return [(rng.random((n, 88)) < 0.05).astype("float32") for n in lengths]


def test_every_frame_is_scored_the_first_from_a_silent_input():
    from datasets.polyphonic import make_dataset

    rolls = _random_rolls(np.random.default_rng(0), [5, 3])
    (inputs, targets, weights), = make_dataset(rolls, batch_size=2, shuffle=False, seed=0)
    np.testing.assert_array_equal(targets[0], rolls[0])  # frames 1..5, the first included
    np.testing.assert_array_equal(inputs[0, 0], np.zeros(88))  # predicted from silence
    np.testing.assert_array_equal(inputs[0, 1:], rolls[0][:-1])
    np.testing.assert_array_equal(weights, [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    # Training pieces: still every frame a target once.
    pieces = list(make_dataset([rolls[0]], batch_size=1, shuffle=False, seed=0, window=2))
    np.testing.assert_array_equal(np.concatenate([t[0] for _, t, _ in pieces]), rolls[0])


def test_nll_is_exact_from_logits_and_per_real_step():
    import keras

    from apps.music.polyphonic import NLLPerStep, NLLPerStepLoss, summed_nll

    # A confident wrong key costs what the model says: 30 nats, not the 16.1 of clipped probabilities.
    targets = np.zeros((1, 1, 88), "float32")
    targets[0, 0, 0] = 1.0
    logits = np.full((1, 1, 88), -30.0, "float32")
    expected = 30 + np.log1p(np.exp(-30)) + 87 * np.log1p(np.exp(-30))
    np.testing.assert_allclose(np.asarray(summed_nll(targets, logits)), [[expected]], rtol=1e-6)

    rng = np.random.default_rng(1)
    y = (rng.random((3, 4, 88)) < 0.3).astype("float32")
    z = rng.normal(size=(3, 4, 88)).astype("float32") * 3
    w = np.array([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]], "float32")
    bce = -(y * np.log(1 / (1 + np.exp(-z))) + (1 - y) * np.log(1 - 1 / (1 + np.exp(-z)))).sum(-1)
    per_real_step = (bce * w).sum() / w.sum()
    loss = NLLPerStepLoss()
    np.testing.assert_allclose(float(loss(y, z, sample_weight=w)), per_real_step, rtol=1e-5)
    assert float(loss(y, z, sample_weight=w)) > (bce * w).sum() / w.size  # Keras' default averages padding in
    revived = keras.losses.deserialize(keras.losses.serialize(loss))
    np.testing.assert_allclose(float(revived(y, z, sample_weight=w)), per_real_step, rtol=1e-5)
    # The metric over several batches: the exact mean over every real step, not a mean of batch means.
    metric = NLLPerStep()
    metric.update_state(y[:1], z[:1], w[:1])
    metric.update_state(y[1:], z[1:], w[1:])
    np.testing.assert_allclose(float(metric.result()), per_real_step, rtol=1e-5)


@pytest.mark.tf_only
def test_nll_per_step_excludes_padding_whatever_the_batching():
    import keras

    from apps.music import polyphonic
    from datasets.polyphonic import make_dataset

    rolls = _random_rolls(np.random.default_rng(2), [7, 2, 5, 3])
    keras.utils.set_random_seed(0)
    model = polyphonic.build_model("gru", 6)
    figures = [polyphonic.nll_per_step(model, make_dataset(rolls, batch_size=b, shuffle=False, seed=0))
               for b in (1, 4)]
    # By hand: every frame's summed NLL, one piece at a time (no padding at all), over all 17 frames.
    total = 0.0
    for roll in rolls:
        inputs = np.concatenate([np.zeros((1, 88), "float32"), roll[:-1]])[None]
        logits = np.asarray(model.predict(inputs, verbose=0))[0]
        total += float(np.sum(np.logaddexp(0, logits) - roll * logits))
    np.testing.assert_allclose(figures, [total / 17] * 2, rtol=1e-5)
    # What fit logs as nll / val_nll (the monitored figure) is the same exact quantity, padding left out.
    logged = model.evaluate(make_dataset(rolls, batch_size=4, shuffle=False, seed=0), verbose=0, return_dict=True)
    np.testing.assert_allclose(logged["nll"], total / 17, rtol=1e-5)


@pytest.mark.tf_only
@pytest.mark.parametrize("output", ["independent", "autoregressive"])
def test_the_benchmark_model_is_causal(output):
    import keras

    from apps.music import polyphonic

    keras.utils.set_random_seed(0)
    model = polyphonic.build_model("lstm", 8, layers=2, output=output, output_units=12)
    rng = np.random.default_rng(3)
    history = (rng.random((1, 6, 88)) < 0.2).astype("float32")
    scored = np.concatenate([history[:, 1:], (rng.random((1, 1, 88)) < 0.2).astype("float32")], axis=1)

    def logits(history, scored):
        return np.asarray(model(polyphonic.model_inputs(model, history, scored), training=False))

    base = logits(history, scored)
    later = history.copy()
    later[:, 4:] = 1 - later[:, 4:]  # change the inputs from step 4 on
    np.testing.assert_allclose(logits(later, scored)[:, :4], base[:, :4], atol=1e-6)
    assert not np.allclose(logits(later, scored)[:, 4:], base[:, 4:])
    if output == "autoregressive":
        flipped = scored.copy()
        flipped[:, :, 5] = 1 - flipped[:, :, 5]  # key 5 of the scored step reaches only keys above it
        changed = logits(history, flipped)
        np.testing.assert_allclose(changed[..., :6], base[..., :6], atol=1e-6)
        assert not np.allclose(changed[..., 6:], base[..., 6:])


def test_the_whole_bars_grammar_fills_every_bar(trained):
    from apps.common.app import load_run
    from apps.music.cli import APP
    from apps.music.generate import generate_tune
    from datasets.tunes import whole_bar_share

    run = load_run(APP, trained)
    shares = []
    for free in (False, True):
        full = counted = 0
        for seed in range(6):
            _, tokens = generate_tune(run, 80, seed=seed, meter="4/4", free_bars=free)
            f, c = whole_bar_share(tokens)
            full, counted = full + f, counted + c
        shares.append(full / counted)
    assert shares[0] == 1.0  # the grammar: every bar that may not be short is whole
    assert shares[1] < 1.0  # the barely trained model alone miscounts


def test_a_run_of_the_old_event_representation_still_generates(tune_folder, tmp_path):
    run_dir = tmp_path / "old"
    result = CliRunner().invoke(cli, ["train", "--run-dir", str(run_dir), "--data-dir", str(tune_folder),
                                      "--representation", "events", "--epochs", "1", "--units", "8", "--layers", "1",
                                      "--window", "16"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    config_path = run_dir / "config.json"
    recorded = json.loads(config_path.read_text())
    assert recorded["options"].pop("representation") == "events"
    config_path.write_text(json.dumps(recorded))  # as a run made before the option existed
    out = CliRunner().invoke(cli, ["generate", "--run-dir", str(run_dir), "--length", "20", "--output",
                                   str(tmp_path / "t")])
    assert out.exit_code == 0, out.output
    abc = (tmp_path / "t.abc").read_text()
    assert "\nK:C\n" in abc and "|" in abc  # events runs: written in C, in bars of 4/4
    keyed = CliRunner().invoke(cli, ["generate", "--run-dir", str(run_dir), "--key", "D", "--output",
                                     str(tmp_path / "k")])
    assert keyed.exit_code != 0 and "--representation abc" in keyed.output


def test_a_large_folder_is_parsed_by_a_worker_pool_as_in_this_process(tmp_path):
    """FEW_FILES or more files go to a forkserver pool (a fork of this process, whose TensorFlow threads
    are running, could wait forever on a lock they held): the same tunes, in the same order."""
    import tensorflow as tf

    from tests.fixtures import abc_tune

    tf.constant(1.0) + 1.0  # TensorFlow's threads are running in this process
    files = []
    for i in range(music.FEW_FILES):
        path = tmp_path / f"t{i:02d}.abc"
        path.write_text(abc_tune(i, f"Tune {i}"))
        files.append(str(path))
    (tmp_path / "t99.abc").write_text("X:1\nT:broken\nK:Zz\n|: ]]]")
    files.append(str(tmp_path / "t99.abc"))
    pooled = music.load_tunes(files, cache_dir=tmp_path / "pooled", workers=2)
    alone = music.load_tunes(files, cache_dir=tmp_path / "alone", workers=1)
    assert pooled == alone and len(pooled[0]) == music.FEW_FILES
