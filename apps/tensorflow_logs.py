"""Keep TensorFlow's C++ chatter off the user's terminal; keep its real warnings and errors.

TensorFlow 2.21 writes, at `import tensorflow`, absl's "All log messages
before absl::InitializeLog() ..." warning and INFO lines about oneDNN and CPU
instructions, twice per process. They come from C++ before absl reads
TF_CPP_MIN_LOG_LEVEL, so no Python setting silences them: the only place to
stop them is file descriptor 2. During training, tf.data and oneDNN add a few
lines logged at ERROR severity that are not errors (listed in BENIGN_LINES).

- `import_tensorflow()` (called by `apps/__init__.py`, before anything else
  imports TensorFlow) points descriptor 2 at a temporary file for the import
  alone, then writes back every captured line that is not a start-up line.
  It sets TF_CPP_MIN_LOG_LEVEL=1 unless the user set it (INFO off; warnings
  and errors on).
- `filtered_stderr()` (around every command, in `apps.common.cli.AppGroup`)
  passes descriptor 2 through a pipe that drops the lines of BENIGN_LINES and
  forwards everything else as it comes.

`SEQAPPS_TF_LOGS=1` turns both off and leaves TF_CPP_MIN_LOG_LEVEL to
TensorFlow's default, to see every line TensorFlow writes.
"""

import contextlib
import os
import re
import sys
import tempfile
import threading

_ABSL_INFO = rb"I\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] .*"
_ABSL_ERROR = rb"E\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] "

# Written while `import tensorflow` runs: absl's warning, INFO lines, and the second
# line of cpu_feature_guard's message, which has no prefix of its own.
STARTUP_LINE = re.compile(
    rb"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|" + _ABSL_INFO +
    rb"|To enable the following instructions: .*in other operations, rebuild TensorFlow with the appropriate "
    rb"compiler flags\.)\r?$"
)

# Logged at ERROR severity during ordinary runs, harmless:
BENIGN_LINES = re.compile(
    rb"^(" + _ABSL_INFO + rb"|" + _ABSL_ERROR + rb"(?:"
    # tf.data's Python layer sets an attribute that the C++ op of this release does
    # not declare; TensorFlow ignores it, as the message says.
    rb"NodeDef mentions attribute use_unbounded_threadpool which is not in the op definition"
    # oneDNN declines boolean and int64 ops and Eigen runs them, as the message says.
    rb"|oneDNN supports DT_\w+ only on platforms with AVX-512"
    rb").*)\r?$"
)


def is_startup_line(line):
    """True for a line (bytes, without its newline) that TensorFlow's import writes as chatter."""
    return bool(STARTUP_LINE.match(line))


def is_benign_line(line):
    """True for a line (bytes, without its newline) that TensorFlow logs in ordinary runs, harmless."""
    return bool(BENIGN_LINES.match(line))


def filter_startup_lines(captured):
    """`captured` (bytes) without TensorFlow's start-up lines; every other line kept, in order."""
    return b"\n".join(line for line in captured.split(b"\n") if not is_startup_line(line))


def wants_tensorflow_logs():
    """SEQAPPS_TF_LOGS set to anything but empty/0/false/no: show TensorFlow's lines unfiltered."""
    return os.environ.get("SEQAPPS_TF_LOGS", "").strip().lower() not in ("", "0", "false", "no")


def import_tensorflow():
    """Import TensorFlow once, its start-up lines filtered out of stderr; returns the module."""
    if "tensorflow" in sys.modules or wants_tensorflow_logs():
        import tensorflow

        return tensorflow
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    sys.stderr.flush()
    with tempfile.TemporaryFile() as capture:
        saved = os.dup(2)
        os.dup2(capture.fileno(), 2)
        try:
            import tensorflow
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            _write_all(2, filter_startup_lines(capture.read()).strip(b"\n"), newline=True)
    return tensorflow


def _write_all(fd, data, newline=False):
    if newline and data:
        data += b"\n"
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _stderr_is_descriptor_2():
    try:
        return sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):  # replaced (click's test runner, pytest): nothing to filter
        return False


@contextlib.contextmanager
def filtered_stderr():
    """Run the body with descriptor 2 piped through a filter of BENIGN_LINES.

    Whole lines are checked; a line still being written (a progress bar
    redrawn with carriage returns) is forwarded up to its last carriage
    return at once, so bars stay live. On exit every byte written is
    forwarded before the body's exception (or exit) goes on.
    """
    if wants_tensorflow_logs() or not _stderr_is_descriptor_2():
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)
    pump = threading.Thread(target=_pump, args=(read_end, saved), name="seqapps-stderr-filter", daemon=True)
    pump.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)  # drops the pipe's last write end: the pump reads to the end and stops
        pump.join(timeout=2)
        os.close(saved)


def _pump(read_end, out):
    """Forward what is written to the pipe, less the benign lines, until every write end is closed.

    It keeps reading even when forwarding fails (the terminal went away), so
    that a writer never blocks on a full pipe.
    """
    pending = b""
    try:
        while chunk := os.read(read_end, 65536):
            *lines, pending = (pending + chunk).split(b"\n")
            kept = b"".join(line + b"\n" for line in lines if not is_benign_line(line))
            cut = pending.rfind(b"\r") + 1  # a redrawn bar: forward what is drawn so far
            kept, pending = kept + pending[:cut], pending[cut:]
            _forward(out, kept)
        if pending and not is_benign_line(pending):
            _forward(out, pending)
    finally:
        os.close(read_end)


def _forward(out, data):
    try:
        _write_all(out, data)
    except OSError:  # stderr closed or gone: drop the output, never the process
        pass
