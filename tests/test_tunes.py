"""datasets.tunes: folk-rnn-style tune tokens, their ABC in any key, and the measures of a tune's shape."""

import pytest

from datasets import tunes


def jig(bars_per_part=8):
    """A 6/8 tune in C major, AABB with repeats, a pickup and short closing bars, as the tokens of a tune."""
    bar = ["72_0.5", "74_0.5", "76_0.5", "77_1.0", "76_0.5"]  # 3 quarters: one bar of 6/8
    part = ["67_0.5", "|:"] + (bar + ["|"]) * (bars_per_part - 1) + ["72_1.0", "72_0.5", "72_0.5", ":|"]
    return ["M:6/8", "K:maj"] + part + part[1:]


def test_key_signatures_of_modes():
    assert tunes.key_signature("D", "maj") == {"D": 0, "E": 0, "F": 1, "G": 0, "A": 0, "B": 0, "C": 1}
    assert tunes.key_signature("D", "mix") == {"D": 0, "E": 0, "F": 1, "G": 0, "A": 0, "B": 0, "C": 0}
    assert tunes.key_signature("E", "dor") == {"E": 0, "F": 1, "G": 0, "A": 0, "B": 0, "C": 1, "D": 0}
    assert tunes.key_signature("G", "min") == {"G": 0, "A": 0, "B": -1, "C": 0, "D": 0, "E": -1, "F": 0}


@pytest.mark.parametrize("tonic", ["C", "D", "G", "Bb", "F#"])
@pytest.mark.parametrize("mode", ["maj", "min", "dor", "mix"])
def test_abc_in_any_key_reads_back_as_the_same_tokens(tonic, mode):
    from music21 import converter

    # Every pitch class, in and out of the scale, twice in a bar (accidentals last to the bar's end).
    chromatic = [f"{60 + step}_0.25" for step in range(12)]
    tokens = ["M:4/4", f"K:{mode}", *chromatic[:8], "|", *chromatic[8:], *chromatic[:4], "|", *chromatic[::-1][:8],
              "||"]
    abc = tunes.to_abc(tokens, "Test", tonic=tonic)
    assert f"\nK:{tonic}{'' if mode == 'maj' else mode}\n" in abc and "\nM:4/4\nL:1/16\n" in abc
    assert tunes.tune_tokens(converter.parseData(abc, format="abc")) == tokens


def test_bars_scale_and_parts_of_a_tune():
    tune = jig()
    assert tunes.whole_bar_share(tune) == (14, 14)  # the pickup and the parts' closing bars may be short
    assert tunes.parts(tune) == [7, 7] and tunes.two_parts_of_eight_bars(tune)  # 7 whole + pickup and close
    assert not tunes.two_parts_of_eight_bars(jig(bars_per_part=6))
    assert tunes.in_scale_share(tune) == 1.0
    broken = tune[:6] + ["73_0.5"] + tune[6:]  # an overfull bar with a note out of the scale
    assert tunes.whole_bar_share(broken) == (13, 14)
    assert tunes.in_scale_share(broken) == pytest.approx(1 - 1 / (sum(tunes.is_note(t) for t in broken)))
    short_inside = tune[:14] + tune[15:]  # a short bar in the middle of a part is not a pickup
    assert tunes.whole_bar_share(short_inside) == (13, 14)


def test_corpus_tune_to_tokens_moves_to_c_and_keeps_bar_lines():
    from music21 import converter

    abc = "X:1\nT:A reel\nM:4/4\nL:1/8\nK:Dmix\n|:A2 FA DAFA|c2 AF GFED:|\n|:d2 fd cdec|dcAF G2 FE:|\n"
    tokens = tunes.tune_tokens(converter.parseData(abc, format="abc"))
    assert tokens[:3] == ["M:4/4", "K:mix", "|:"] and tokens.count(":|") == 2
    assert tokens[3] == "67_1.0"  # A (69) moved down a tone to G
    assert tunes.parts(tokens) == [2, 2]
