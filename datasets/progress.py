"""Progress of data preparation on stderr: a bar on a terminal, nothing in logs and pipes.

tqdm with `disable=None` draws only when stderr is a terminal, and `delay`
keeps it off for steps that finish within a few seconds.
"""

import sys

from tqdm import tqdm

DELAY_SECONDS = 2.0


def progress(iterable=None, *, description, unit, total=None, unit_scale=False):
    """`iterable` wrapped in a bar `description: count/total unit [elapsed<eta, rate]` (or, without
    an iterable, a bar to `.update(n)`); drawn on a terminal only, after DELAY_SECONDS."""
    return tqdm(iterable, desc=description, unit=unit, total=total, unit_scale=unit_scale, file=sys.stderr,
                disable=None, delay=DELAY_SECONDS, leave=False, dynamic_ncols=True, mininterval=0.5)
