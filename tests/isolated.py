"""Run Python code in a fresh process that cannot import this project."""

import json
import os
import subprocess
import sys
import textwrap

# Installed first in the child: any import of our packages fails loudly, so a
# passing test proves that the SavedModel needs none of our Python.
_BLOCK = """
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {'apps', 'layers', 'datasets'}:
            raise ImportError('seqapps code must not be needed here: ' + name)
        return None
sys.meta_path.insert(0, _Block())
"""


def run_isolated(code, cwd, timeout=300):
    """Run `code` with project imports blocked; return its last stdout line as JSON."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KERAS_BACKEND")}
    proc = subprocess.run(
        [sys.executable, "-I", "-c", _BLOCK + textwrap.dedent(code)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
    )
    if proc.returncode != 0:
        raise AssertionError(f"isolated process failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
