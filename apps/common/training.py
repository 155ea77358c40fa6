"""model.fit with the callbacks every app uses, resumable after a crash."""

import csv
import math
import os
import shutil
import time
import warnings

import keras

from .rundir import RunDir


def _best_so_far(metrics_csv, monitor, mode):
    """The best monitored value of epochs already logged (for a resumed run)."""
    if not metrics_csv.exists():
        return None
    values = []
    with open(metrics_csv, newline="") as handle:
        for row in csv.DictReader(handle):
            try:
                value = float(row.get(monitor, "nan"))
            except ValueError:
                continue
            if math.isfinite(value):
                values.append(value)
    if not values:
        return None
    return min(values) if mode == "min" else max(values)


class ElapsedTime(keras.callbacks.Callback):
    """Adds `elapsed_seconds` (training time so far, across resumes) to each epoch's logs."""

    def __init__(self, already):
        super().__init__()
        self.already = already

    def on_train_begin(self, logs=None):
        self.start = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["elapsed_seconds"] = round(self.already + time.monotonic() - self.start, 1)


def _last_value(metrics_csv, column):
    if not metrics_csv.exists():
        return 0.0
    with open(metrics_csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    try:
        return float(rows[-1][column]) if rows else 0.0
    except (KeyError, ValueError):
        return 0.0


def fit(model, train_data, valid_data, run_dir: RunDir, *, epochs, monitor="val_loss", mode="min",
        patience=3, verbose="auto", extra_callbacks=(), reduce_lr_patience=None):
    """Train with checkpoints, early stopping and resume; leave the best model in run_dir.

    Running the same command again after an interruption continues from the
    last completed epoch (BackupAndRestore). `model.keras` is written only at
    the end, from the best epoch's checkpoint. `extra_callbacks` run before the
    checkpoint, early stopping and CSV callbacks, so metrics they add to the
    epoch's logs (a validation F1, say) can be monitored and are logged.
    `reduce_lr_patience` halves the learning rate after that many epochs
    without improvement.
    """
    best = _best_so_far(run_dir.metrics_csv, monitor, mode)
    run_dir.best_checkpoint.parent.mkdir(parents=True, exist_ok=True)
    callbacks = [
        ElapsedTime(_last_value(run_dir.metrics_csv, "elapsed_seconds")),
        *extra_callbacks,
        # Kept after the end, so that the same command with more --epochs continues.
        keras.callbacks.BackupAndRestore(str(run_dir.backup_dir), save_freq="epoch", delete_checkpoint=False),
        keras.callbacks.ModelCheckpoint(
            str(run_dir.best_checkpoint), monitor=monitor, mode=mode, save_best_only=True,
            initial_value_threshold=best,
        ),
        keras.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=patience),
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.CSVLogger(str(run_dir.metrics_csv), append=True),
        keras.callbacks.TensorBoard(str(run_dir.logs_dir)),
    ]
    if reduce_lr_patience:
        callbacks.append(keras.callbacks.ReduceLROnPlateau(
            monitor=monitor, mode=mode, factor=0.5, patience=reduce_lr_patience, min_lr=1e-5))
    with warnings.catch_warnings():
        # Bucketed datasets have no known length; Keras warns at each first epoch end.
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        history = model.fit(train_data, validation_data=valid_data, epochs=epochs, callbacks=callbacks, shuffle=False,
                            verbose=verbose)
    if not run_dir.best_checkpoint.exists():
        raise RuntimeError(f"training produced no finite '{monitor}'; nothing was saved")
    tmp = run_dir.model_path.with_name(".model.keras.tmp")
    shutil.copyfile(run_dir.best_checkpoint, tmp)
    os.replace(tmp, run_dir.model_path)
    return history
