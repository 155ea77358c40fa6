"""Input pipelines of seqapps: readers for each task's file formats and tf.data.

This package shares its name with Hugging Face's `datasets`. Import it through
`apps` (or call `apps.ensure_own_datasets()` first): that binds the name to
this folder whatever the order of `sys.path`.
"""

# Checked by apps.ensure_own_datasets(): proves this is our package, not the PyPI one.
__seqapps__ = True
