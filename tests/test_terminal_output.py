"""What a user's terminal shows: the command's own output, no TensorFlow start-up or runtime chatter."""

import subprocess
import sys

import apps
from apps.tensorflow_logs import filter_startup_lines, is_benign_line
from tests.fixtures import SENTIMENT_SMALL, sentiment_rows, user_environment, write_jsonl

# Lines TensorFlow 2.21 wrote on this project's machine, as captured.
STARTUP = [
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    b"I0000 00:00:1795649849.664622    2482 port.cc:153] oneDNN custom operations are on. You may see slightly "
    b"different numerical results due to floating-point round-off errors from different computation orders. To turn "
    b"them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.",
    b"I0000 00:00:1795649849.702968    2482 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use "
    b"available CPU instructions in performance-critical operations.",
    b"To enable the following instructions: AVX2 AVX512F AVX512_VNNI AVX512_BF16 FMA, in other operations, rebuild "
    b"TensorFlow with the appropriate compiler flags.",
]
BENIGN = [
    b"E0000 00:00:1795650009.963459    3517 node_def_util.cc:682] NodeDef mentions attribute "
    b"use_unbounded_threadpool which is not in the op definition: Op<name=MapDataset; ...> This may be expected",
    b"E0000 00:00:1795650013.566368    3517 util.cc:131] oneDNN supports DT_BOOL only on platforms with AVX-512. "
    b"Falling back to the default Eigen-based implementation if present.",
    b"E0000 00:00:1795652054.617024   24574 util.cc:131] oneDNN supports DT_INT64 only on platforms with AVX-512. "
    b"Falling back to the default Eigen-based implementation if present.",
]
REAL = [
    b"W0000 00:00:1795650013.566368    3517 op_kernel.cc:1857] OP_REQUIRES failed at example.cc:10 : NOT_FOUND",
    b"E0000 00:00:1795650013.566368    3517 cuda_driver.cc:1] failed call to cuInit: UNKNOWN ERROR (303)",
    b"Traceback (most recent call last):",
    b"Error: data.jsonl:3: not valid JSON",
]


def test_startup_lines_are_dropped_and_every_other_line_kept_in_order():
    captured = b"\n".join([STARTUP[0], REAL[0], *STARTUP[1:], REAL[1], STARTUP[1]]) + b"\n"
    assert filter_startup_lines(captured) == REAL[0] + b"\n" + REAL[1] + b"\n"
    assert [is_benign_line(line) for line in BENIGN + REAL] == [True] * len(BENIGN) + [False] * len(REAL)


def _python(code, **kwargs):
    return subprocess.run([sys.executable, "-c", code], cwd=apps.PROJECT_ROOT, env=user_environment(),
                          capture_output=True, timeout=120, **kwargs)


def test_importing_the_apps_prints_nothing_and_real_lines_pass_the_runtime_filter():
    lines = BENIGN + REAL
    code = (
        "import os, sys\n"
        "import apps\n"
        "from apps.tensorflow_logs import filtered_stderr\n"
        "with filtered_stderr():\n"
        f"    for line in {lines!r}:\n"
        "        os.write(2, line + b'\\n')\n"
        "    os.write(2, b'\\rbar 1/3\\rbar 2/3')\n"  # a progress bar redrawn in place, no newline yet
        "    print('python stderr', file=sys.stderr)\n"
    )
    proc = _python(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b""
    assert proc.stderr == b"".join(line + b"\n" for line in REAL) + b"\rbar 1/3\rbar 2/3python stderr\n"


def test_a_user_error_is_exactly_one_line_in_a_plain_shell(tmp_path):
    missing = tmp_path / "missing.jsonl"
    proc = subprocess.run([sys.executable, "-m", "apps.sentiment", "train", "--run-dir", str(tmp_path / "run"),
                           "--train-file", str(missing)], cwd=apps.PROJECT_ROOT, env=user_environment(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [f"Error: {missing}: no such file"]
    assert proc.stdout == ""


def test_training_and_evaluation_print_only_their_own_lines(tmp_path):
    """In a pipe (as in CI logs): no TensorFlow line on stderr, one progress line per epoch on stdout."""
    train = write_jsonl(tmp_path / "train.jsonl", sentiment_rows(120, seed=0))
    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "apps.sentiment"]
    proc = subprocess.run([*command, "train", "--run-dir", str(run_dir), "--train-file", str(train), "--epochs", "2",
                           *SENTIMENT_SMALL], cwd=apps.PROJECT_ROOT, env=user_environment(), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    epoch_lines = [line for line in proc.stdout.splitlines() if "val_accuracy" in line]
    assert len(epoch_lines) == 2 and all(line.startswith("7/7 - ") for line in epoch_lines), proc.stdout
    assert "Unknown" not in proc.stdout and "\r" not in proc.stdout and "\x1b" not in proc.stdout
    proc = subprocess.run([*command, "evaluate", "--run-dir", str(run_dir), "--test-file", str(train)],
                          cwd=apps.PROJECT_ROOT, env=user_environment(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.splitlines()[0].split() == ["metric", "value"]
