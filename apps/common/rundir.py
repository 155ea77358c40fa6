"""The run directory: everything a training run leaves for evaluate, predict and export.

    DIR/config.json          app, format version, all options (data and model)
    DIR/vocabulary/          the app's vocabularies (one token per line)
    DIR/model.keras          the best model (by the validation monitor), written last
    DIR/checkpoints/best.keras
    DIR/backup/              BackupAndRestore's state while a run is unfinished
    DIR/logs/                TensorBoard
    DIR/metrics.csv          one row per epoch
    DIR/evaluation.json      written by `evaluate`
    DIR/.lock                held by the training that writes DIR (its pid inside)
"""

import errno
import json
import os
import pathlib
import tempfile

from .errors import UserError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, runs are not guarded
    fcntl = None

FORMAT_VERSION = 1


def atomic_write_text(path, text):
    """Write via a temporary file and rename, so readers never see half a file."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        # mkstemp makes the file private (0600); give it the mode any other new file would have.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


class RunDir:
    def __init__(self, path, app):
        from .distribute import is_chief

        self.path = pathlib.Path(path)
        self.app = app
        # In a multi-worker run only the chief writes here; the others only read.
        self.writer = is_chief()

    config_path = property(lambda self: self.path / "config.json")
    model_path = property(lambda self: self.path / "model.keras")
    best_checkpoint = property(lambda self: self.path / "checkpoints" / "best.keras")
    backup_dir = property(lambda self: self.path / "backup")
    branches_dir = property(lambda self: self.path / "checkpoints" / "branches")  # BranchEarlyStopping's best
    logs_dir = property(lambda self: self.path / "logs")
    # What a resumed run needs to repeat the uninterrupted one: the passes over the training data made before
    # training (`training.counting_passes`) and the random-number state after the last epoch (`RandomStateBackup`).
    data_passes_path = property(lambda self: self.path / "checkpoints" / "data_passes_before_training")
    random_state_path = property(lambda self: self.path / "checkpoints" / "random_state.npz")
    metrics_csv = property(lambda self: self.path / "metrics.csv")
    evaluation_path = property(lambda self: self.path / "evaluation.json")

    def vocabulary_path(self, name):
        return self.path / "vocabulary" / f"{name}.txt"

    def write_vocabulary(self, name, tokens):
        if not self.writer:
            return
        atomic_write_text(self.vocabulary_path(name), "".join(f"{t}\n" for t in tokens))

    def read_vocabulary(self, name):
        path = self.vocabulary_path(name)
        if not path.exists():
            raise UserError(f"{self.path}: no vocabulary '{name}' in the run directory")
        return path.read_text(encoding="utf-8").split("\n")[:-1]

    def write_data_passes(self, passes):
        """Record how many passes over the training data a new run made before its first epoch."""
        if self.writer:
            atomic_write_text(self.data_passes_path, f"{passes}\n")

    def read_data_passes(self):
        """The passes recorded by `write_data_passes` (0 for a run made before they were)."""
        path = self.data_passes_path
        if not path.exists():
            return 0
        text = path.read_text(encoding="utf-8").strip()
        if not text.isdigit():
            raise UserError(f"{path}: expected a count of passes, found {text[:40]!r}")
        return int(text)

    def read_config(self):
        """The run's config; refuses a directory of another app or format."""
        if not self.config_path.exists():
            raise UserError(f"{self.path}: not a run directory (no config.json); train into it first")
        try:
            config = json.loads(self.config_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise UserError(f"{self.config_path}: not valid JSON ({err.msg}, line {err.lineno})") from None
        if config.get("app") != self.app:
            raise UserError(f"{self.path}: a run directory of the '{config.get('app')}' app, not '{self.app}'")
        if config.get("format") != FORMAT_VERSION:
            raise UserError(
                f"{self.path}: run directory format {config.get('format')}, this version reads {FORMAT_VERSION}"
            )
        return config["options"]

    def trained_options(self):
        """The options of a run whose training has finished (model.keras written)."""
        options = self.read_config()
        if not self.model_path.exists():
            raise UserError(f"{self.path}: training has not finished (no model.keras); run train again to continue")
        return options

    def start(self, options, resumable_keys, defaults=None):
        """Record the options of a new run, or check that a resumed run uses the same.

        Returns True when resuming. Only `resumable_keys` (epochs, say) may differ.
        An option that a run directory does not record (the run began before
        the option existed) counts as its value in `defaults`: a new option's
        default keeps the old behaviour, so such a run resumes unless the
        option is given another value.
        """
        if self.config_path.exists():
            previous = {**{k: v for k, v in (defaults or {}).items() if k in options}, **self.read_config()}
            changed = sorted(
                k for k in set(previous) | set(options)
                if k not in resumable_keys and previous.get(k) != options.get(k)
            )
            if changed:
                details = ", ".join(f"{k}: {previous.get(k)!r} -> {options.get(k)!r}" for k in changed)
                raise UserError(
                    f"{self.path} holds a run with other options ({details}); to continue it, give the values "
                    "it was trained with (a default may have changed since), or use a new --run-dir"
                )
            resuming = True
        else:
            resuming = False
        if not self.writer:
            return resuming
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock()
        self._write_config(options)
        return resuming

    def _write_config(self, options):
        atomic_write_text(
            self.config_path,
            json.dumps({"app": self.app, "format": FORMAT_VERSION, "options": options}, indent=2) + "\n",
        )

    def follow_move(self, option, path, tail=2):
        """Record `path` for `option`, a file of a run directory that moved (copied, renamed) with it, so that the
        same command continues the run where it is now instead of refusing the run's own file by its old path.
        Only a recorded path that ends in the same `tail` parts as `path` (say language_models/forward.txt)
        counts as the same file moved; anything else is left for `start` to refuse. Nothing recorded: nothing
        to do."""
        if not self.writer or not self.config_path.exists():
            return
        options, path = self.read_config(), pathlib.Path(path)
        recorded = options.get(option)
        if not recorded or recorded == str(path) or pathlib.Path(recorded).parts[-tail:] != path.parts[-tail:]:
            return
        self._write_config({**options, option: str(path)})

    def _lock(self):
        """Refuse a second training into the same directory while the first one runs.

        A POSIX record lock: the kernel drops it when the process ends, however
        it ends (SIGKILL included), so a killed run never blocks its own restart;
        the same process may take it again (a resumed run in one Python session).
        """
        if fcntl is None:
            return
        lock_path = self.path / ".lock"
        handle = open(lock_path, "a+", encoding="utf-8")
        try:
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno not in (errno.EACCES, errno.EAGAIN):  # a file system without locks: run unguarded
                handle.close()
                return
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise UserError(f"{self.path}: another training is writing to this run directory (pid {holder}); "
                            "wait for it to end or use a new --run-dir") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._lock_handle = handle  # open for as long as this run lives: closing it would release the lock
