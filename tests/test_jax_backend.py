"""The layer tests again, on the JAX backend (a backend is fixed per process).

Two kind x option matrices run there as a covering half (tests/conftest.py).
"""

import os
import subprocess
import sys

import apps


def test_layer_tests_pass_on_jax():
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "0", "-m", "not tf_only",
         "tests/test_cells.py", "tests/test_attention.py", "tests/test_crf.py", "tests/test_ngrams.py",
         "tests/test_auxiliary.py", "tests/test_adversarial.py"],
        cwd=apps.PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert " passed" in summary and "failed" not in summary, summary
    # Left out on purpose, no more: the TensorFlow-only tests (export; the tf.function-traced loop, 8; the
    # adversarial training step, 3) and half of two matrices (conftest.JAX_HALVED).
    assert " 26 deselected" in summary, summary
    # The child must really have run on JAX, not silently on TensorFlow.
    assert "backend=jax" in proc.stdout, proc.stdout[-2000:]
