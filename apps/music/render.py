"""A tune as engraved sheet music (verovio) and as audio (FluidSynth with a General MIDI soundfont).

Both are optional at run time: when one is missing, the caller gets a
one-line reason and writes the other files. verovio ships as a wheel from
PyPI (a dependency of this package); FluidSynth and a soundfont come from the
system's packages (apt-packages.txt: `sudo apt-get install $(cat apt-packages.txt)`).
"""

import os
import shutil
import subprocess

SOUNDFONT_VARIABLE = "SEQAPPS_SOUNDFONT"
# Debian/Ubuntu: default-GM.sf2 points at the installed GM soundfont (TimGM6mb, FluidR3, ...).
SOUNDFONTS = ("/usr/share/sounds/sf2/default-GM.sf2", "/usr/share/sounds/sf2/FluidR3_GM.sf2",
              "/usr/share/sounds/sf2/TimGM6mb.sf2", "/usr/share/soundfonts/default.sf2")
SAMPLE_RATE = 44100


def engrave(abc, svg_path):
    """Write the engraved score of an ABC tune as SVG; None when written, else why not (one line)."""
    try:
        import verovio
    except ImportError:
        return "no engraving: verovio is not installed (pip install verovio)"
    verovio.enableLog(verovio.LOG_OFF)
    toolkit = verovio.toolkit()
    # One page as tall as the tune needs (verovio's largest page holds any tune `generate` writes).
    toolkit.setOptions({"inputFrom": "abc", "adjustPageHeight": True, "breaks": "auto", "pageWidth": 2100,
                        "pageHeight": 60000, "scale": 45, "footer": "none",
                        "xmlIdSeed": 1})  # element ids from a seed, not random: the same tune, the same bytes
    if not toolkit.loadData(abc):
        return "no engraving: verovio could not read the ABC"
    from apps.common.rundir import atomic_write_text

    atomic_write_text(svg_path, toolkit.renderToSVG(1))
    return None


def soundfont():
    """The General MIDI soundfont to play with: $SEQAPPS_SOUNDFONT, else the system's; None if none."""
    given = os.environ.get(SOUNDFONT_VARIABLE)
    if given:
        return given if os.path.isfile(given) else None
    return next((path for path in SOUNDFONTS if os.path.isfile(path)), None)


def synthesise(midi_path, wav_path):
    """Render a MIDI file to a 16-bit WAV with FluidSynth; None when written, else why not (one line)."""
    program = shutil.which("fluidsynth")
    if program is None:
        return "no audio: FluidSynth is not installed (sudo apt-get install $(cat apt-packages.txt))"
    font = soundfont()
    if font is None:
        where = os.environ.get(SOUNDFONT_VARIABLE) or "/usr/share/sounds/sf2"
        return f"no audio: no General MIDI soundfont at {where} (set {SOUNDFONT_VARIABLE} or install one)"
    partial = f"{wav_path}.partial"
    proc = subprocess.run([program, "-ni", "-q", "-g", "1.0", "-r", str(SAMPLE_RATE), "-F", partial, "-T", "wav",
                           font, midi_path], capture_output=True, text=True)
    if proc.returncode != 0 or not os.path.exists(partial):
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        return f"no audio: fluidsynth failed ({detail[-1] if detail else f'exit {proc.returncode}'})"
    os.replace(partial, wav_path)
    return None
