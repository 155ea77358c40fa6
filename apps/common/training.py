"""model.fit with the callbacks every app uses, resumable after a crash."""

import contextlib
import csv
import math
import os
import pathlib
import shutil
import tempfile
import time
import types
import warnings

import keras
import numpy

from layers.keras_internals import BackupAndRestoreFrom, build_outside_strategy

from .distribute import shard_by_data
from .rundir import RunDir


def _best_so_far(rows, monitor, mode):
    """The best monitored value of epochs already logged (metrics.csv's `rows`, for a resumed run)."""
    values = [v for v in (_finite(row.get(monitor)) for row in rows) if v is not None]
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


class RandomStateBackup(keras.callbacks.Callback):
    """Saves the model's random-number state (its `SeedGenerator`s: dropout's masks, say) after every epoch
    into `path`, and puts it back when a run resumes after `completed_epochs`, from `restore_from`.

    BackupAndRestore keeps the weights and the optimizer, but not these states
    (they are among `model.variables` but not `model.weights`), so a resumed
    run would draw the masks of its first epoch again. A state saved after
    another epoch than the last completed one (a crash between the two saves)
    or for another model is left alone.
    """

    def __init__(self, path, completed_epochs, restore_from=None):
        super().__init__()
        self.path, self.completed = pathlib.Path(path), completed_epochs
        self.restore_from = pathlib.Path(restore_from or path)

    def _states(self):
        weights = {id(variable) for variable in self.model.weights}
        return [variable for variable in self.model.variables if id(variable) not in weights]

    def on_train_begin(self, logs=None):
        if not self.completed or not self.restore_from.exists():
            return
        with numpy.load(self.restore_from) as saved:
            values = [saved[f"state_{i}"] for i in range(len(saved.files) - 1)]
            epoch = int(saved["epoch"])
        states = self._states()
        if epoch == self.completed - 1 and [v.shape for v in values] == [tuple(s.shape) for s in states]:
            for state, value in zip(states, values):
                state.assign(value)

    def on_epoch_end(self, epoch, logs=None):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        with open(tmp, "wb") as handle:
            numpy.savez(handle, epoch=epoch, **{f"state_{i}": numpy.asarray(state)
                                                 for i, state in enumerate(self._states())})
        os.replace(tmp, self.path)


class _Replayed:
    """A mixin for a Keras callback that counts epochs without improvement (EarlyStopping,
    ReduceLROnPlateau): in a resumed run it starts where the uninterrupted run's was, by replaying the epochs
    logged in `history` (metrics.csv's rows) on a stand-in model, so that the resumed run stops, and halves
    its learning rate, at the epochs the uninterrupted one would have. The stand-in takes what the replay
    sets (`stop_training`, the learning rate) instead of the model, whose restored optimizer already has the
    learning rate of the last epoch."""

    def __init__(self, *args, history=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.history = list(history)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        model = self.model
        # The replay's learning rate starts far above ReduceLROnPlateau's floor (min_lr) and never reaches it,
        # so where a run did, the replayed count of epochs without improvement restarts at each halving while
        # the run's went on; the learning rate is the same either way (at the floor a halving changes nothing).
        stand_in_optimizer = types.SimpleNamespace(learning_rate=1e30)
        self.replayed_rates = [stand_in_optimizer.learning_rate]  # and after each epoch replayed
        try:
            for row in self.history:
                logged = {name: value for name, value in ((name, _finite(text)) for name, text in row.items())
                          if value is not None}
                self.set_model(types.SimpleNamespace(stop_training=False, optimizer=stand_in_optimizer))
                super().on_epoch_end(int(row["epoch"]), logged)
                self.replayed_rates.append(stand_in_optimizer.learning_rate)
        finally:
            self.set_model(model)


class ResumedEarlyStopping(_Replayed, keras.callbacks.EarlyStopping):
    """keras.callbacks.EarlyStopping that a resumed run continues (`_Replayed`)."""


class ResumedReduceLROnPlateau(_Replayed, keras.callbacks.ReduceLROnPlateau):
    """keras.callbacks.ReduceLROnPlateau that a resumed run continues (`_Replayed`). The backup of an epoch is
    saved before this callback halves the rate at its end (it needs the epoch's validation metrics, which
    the callbacks after the backup add), so a halving the replay makes at the last epoch logged is made
    again on the restored optimizer."""

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if len(self.replayed_rates) > 1 and self.replayed_rates[-1] < self.replayed_rates[-2]:  # at the last epoch
            optimizer = self.model.optimizer
            rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
            if rate > self.min_lr:
                optimizer.learning_rate = max(rate * self.factor, self.min_lr)


class StepLog(keras.callbacks.Callback):
    """Appends "batches-so-far unix-time" after the first and every `every`-th training batch to `path`.

    For benchmarks (bench/scale.py): set SEQAPPS_STEP_LOG=FILE to get the time
    to the first step and the steady throughput of any training command.
    """

    def __init__(self, path, every=10):
        super().__init__()
        self.path, self.every, self.batches = path, every, 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1
        if self.batches == 1 or self.batches % self.every == 0:
            with open(self.path, "a") as handle:
                handle.write(f"{self.batches} {time.time():.3f}\n")


class WeightNoise(keras.callbacks.Callback):
    """Gaussian weight noise (Graves 2011): each training step's gradient is taken at noisy weights.

    Noise of standard deviation `stddev` is added to every trainable weight
    before a training batch and the same noise is subtracted after it, so the
    optimizer's update lands on the clean weights: w <- w - update(grad L(w + noise)).
    Validation, checkpoints and the saved model see clean weights. The noise
    of (seed, epoch, batch) is always the same, so a resumed run draws what an
    uninterrupted one would have.
    """

    def __init__(self, stddev, seed=0):
        super().__init__()
        if not stddev > 0:
            raise ValueError(f"stddev must be positive, got {stddev}")
        self.stddev, self.seed = float(stddev), int(seed)
        self._epoch, self._noise = 0, None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        import numpy as np

        rng = np.random.default_rng([self.seed, self._epoch, batch])
        self._noise = []
        for weight in self.model.trainable_weights:
            noise = rng.normal(0.0, self.stddev, tuple(weight.shape)).astype(weight.dtype)
            weight.assign_add(noise)
            self._noise.append(noise)

    def on_train_batch_end(self, batch, logs=None):
        for weight, noise in zip(self.model.trainable_weights, self._noise or ()):
            weight.assign_sub(noise)
        self._noise = None


class BranchEarlyStopping(keras.callbacks.Callback):
    """Early stopping for each part of a model whose parts learn apart (each with its own loss, sharing no weight).

    `branches` {validation metric: [layer names]}: once a branch's own metric
    has not improved for `patience` epochs (at least one), its best weights come back and its
    layers stop training (the train step is traced again without them); the
    other branches train on, and the fit stops when none is left. Each
    branch's best weights are kept in memory and, from a writer, as
    `state_dir/METRIC.npz`, so that a resumed run (`history`: the metrics rows
    of its finished epochs) replays the decisions and freezes what was frozen.
    `mode` "max" or "min", as the metrics.
    """

    def __init__(self, branches, patience=0, mode="max", state_dir=None, history=(), write=True):
        super().__init__()
        self.branches, self.patience, self.mode = dict(branches), patience, mode
        self.state_dir, self.history, self.write = state_dir and pathlib.Path(state_dir), list(history), write
        self.best, self.best_epoch, self.waited, self.weights, self.frozen = {}, {}, {}, {}, set()

    def on_train_begin(self, logs=None):
        for row in self.history:  # a resumed run: the decisions made before the interruption, made again
            self._account(row, int(row["epoch"]))
            self.frozen.update(self._due())
        for metric in self.best:
            saved = self.state_dir and self.state_dir / f"{metric}.npz"
            if saved and saved.exists():
                with numpy.load(saved) as arrays:
                    self.weights[metric] = [arrays[f"arr_{i}"] for i in range(len(arrays.files))]
        self._freeze(sorted(self.frozen))

    def on_epoch_end(self, epoch, logs=None):
        for metric in self._account(logs or {}, epoch):
            self.weights[metric] = [w for name in self.branches[metric] for w in self._layer(name).get_weights()]
            if self.write and self.state_dir:
                self.state_dir.mkdir(parents=True, exist_ok=True)
                numpy.savez(self.state_dir / f"{metric}.npz", *self.weights[metric])
        self._freeze(self._due())

    def _due(self):
        # Counted as keras.callbacks.EarlyStopping counts its patience (0 stops as 1 does), so that
        # --branch-patience N and --patience N wait as long.
        return [m for m in self.branches if m not in self.frozen and self.waited.get(m, 0) >= max(self.patience, 1)]

    def _account(self, row, epoch):
        """Update each running branch's best and wait from one epoch's metrics; return those that improved."""
        improved = []
        for metric in self.branches:
            value = _finite(row.get(metric))
            if metric in self.frozen or value is None:
                continue
            best = self.best.get(metric)
            if best is None or (value > best if self.mode == "max" else value < best):
                self.best[metric], self.best_epoch[metric], self.waited[metric] = value, epoch, 0
                improved.append(metric)
            else:
                self.waited[metric] = self.waited.get(metric, 0) + 1
        return improved

    def _freeze(self, metrics):
        """Put each branch of `metrics` back to its best weights (when kept) and stop training its layers."""
        for metric in metrics:
            layers = [self._layer(name) for name in self.branches[metric]]
            weights = iter(self.weights.get(metric, ()))
            for layer in layers:
                if metric in self.weights:
                    layer.set_weights([next(weights) for _ in layer.weights])
                layer.trainable = False
            self.frozen.add(metric)
            print(f"{metric}: {self.best[metric]:.4f} at epoch {self.best_epoch[metric] + 1}, not bettered in "
                  f"{self.waited[metric]} epoch(s) since: that epoch's weights back, no longer trained", flush=True)
        if metrics:
            self.model.make_train_function(force=True)
            self.model.stop_training = len(self.frozen) == len(self.branches)

    def _layer(self, name):
        return self.model.get_layer(name)


def _branch_stopping(branch_stopping, mode, run_dir, history_from, logged_epochs):
    """[BranchEarlyStopping] for `fit`'s branch_stopping (patience, branches), resumed from the chief's run
    directory (`history_from`, whose metrics.csv rows are `logged_epochs`), which only the chief writes; [] without
    it."""
    if not branch_stopping:
        return []
    patience, branches = branch_stopping
    return [BranchEarlyStopping(branches, patience, mode, state_dir=history_from.branches_dir,
                                history=logged_epochs, write=run_dir is history_from)]


def _finite(value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _rows(metrics_csv):
    """The rows of a run's metrics.csv (none for a new run)."""
    if not metrics_csv.exists():
        return []
    with open(metrics_csv, newline="") as handle:
        return list(csv.DictReader(handle))


def _last_value(rows, column):
    try:
        return float(rows[-1][column]) if rows else 0.0
    except (KeyError, ValueError):
        return 0.0


def weight_averaging(options):
    """Keyword arguments of a Keras optimizer for the option --ema-momentum: {} when it is 0.

    `fit` then validates, checkpoints and keeps the averaged weights.
    """
    momentum = options.get("ema_momentum") or 0.0
    return {"use_ema": True, "ema_momentum": momentum} if momentum else {}


def _averaged_weights(model):
    """SwapEMAWeights for a model whose optimizer averages its weights: the average is in the model from the
    end of each epoch (so validation, the epoch's other callbacks and the best checkpoint see it) to the start of
    the next; none otherwise."""
    optimizer = getattr(model.optimizer, "inner_optimizer", model.optimizer)
    return [keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if getattr(optimizer, "use_ema", False) else []


def _reduce_lr(monitor, mode, patience, history):
    if not patience:
        return []
    return [ResumedReduceLROnPlateau(monitor=monitor, mode=mode, factor=0.5, patience=patience, min_lr=1e-5,
                                     history=history)]


def progress_verbosity():
    """Keras' `verbose`: 1 (a live bar with total and ETA) on a terminal, 2 (one line per epoch) elsewhere."""
    import sys

    return 1 if sys.stdout.isatty() else 2


def fit(model, train_data, valid_data, run_dir: RunDir, *, epochs, monitor="val_loss", mode="min",
        patience=3, verbose="auto", extra_callbacks=(), reduce_lr_patience=None, branch_stopping=None,
        skipped_passes=0):
    """Train with checkpoints, early stopping and resume; leave the best model in run_dir.

    Running the same command again after an interruption continues from the
    last completed epoch (BackupAndRestore). `model.keras` is written only at
    the end, from the best epoch's checkpoint. `extra_callbacks` run before the
    checkpoint, early stopping and CSV callbacks, so metrics they add to the
    epoch's logs (a validation F1, say) can be monitored and are logged.
    `reduce_lr_patience` halves the learning rate after that many epochs
    without improvement. With an optimizer that averages the weights
    (`weight_averaging`), the average is what is validated and kept.
    `branch_stopping` (patience, {validation metric: [layer names]}) stops
    each branch of a model of independent parts at its own best epoch
    (`BranchEarlyStopping`). A resumed run sees each epoch's batches in the
    order, and draws the random numbers (dropout), of the uninterrupted run
    (`_epoch_ordered`, `RandomStateBackup`); `skipped_passes` are the passes
    over `train_data` a new run made before training (`counting_passes`) that
    this one did not.
    """
    import tensorflow as tf

    if verbose == "auto":
        verbose = progress_verbosity()
    strategy = model.distribute_strategy
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        train_data, valid_data = shard_by_data(train_data), shard_by_data(valid_data)
    with strategy.scope(), _built_beforehand(model, valid_data):
        return _fit(model, train_data, valid_data, run_dir, epochs=epochs, monitor=monitor, mode=mode,
                    patience=patience, verbose=verbose, extra_callbacks=extra_callbacks,
                    reduce_lr_patience=reduce_lr_patience, branch_stopping=branch_stopping,
                    skipped_passes=skipped_passes)


@contextlib.contextmanager
def _built_beforehand(model, valid_data):
    """Build a model made in a strategy scope from a validation batch, then fit it as if it were not.

    See `layers.keras_internals.build_outside_strategy`: the validation data
    is not shuffled, and fit runs inside the strategy's scope.
    """
    restore = build_outside_strategy(model, valid_data)
    try:
        yield
    finally:
        if restore:
            restore()


def _fit(model, train_data, valid_data, run_dir, *, epochs, monitor, mode, patience, verbose, extra_callbacks,
         reduce_lr_patience, branch_stopping, skipped_passes):
    if run_dir.writer:
        return _fit_into(model, train_data, valid_data, run_dir, run_dir.backup_dir, epochs=epochs, monitor=monitor,
                         mode=mode, patience=patience, verbose=verbose, extra_callbacks=extra_callbacks,
                         reduce_lr_patience=reduce_lr_patience, branch_stopping=branch_stopping,
                         skipped_passes=skipped_passes)
    # A worker that is not the chief saves as the chief does (saving may take part in the
    # workers' collective operations), but into a temporary directory removed at the end;
    # when restarted it restores the chief's backup, like every other worker.
    scratch = tempfile.mkdtemp(prefix="seqapps-worker-")
    try:
        return _fit_into(model, train_data, valid_data, RunDir(scratch, run_dir.app), run_dir.backup_dir,
                         history_from=run_dir,
                         epochs=epochs, monitor=monitor, mode=mode, patience=patience, verbose=0,
                         extra_callbacks=extra_callbacks, reduce_lr_patience=reduce_lr_patience,
                         branch_stopping=branch_stopping, skipped_passes=skipped_passes)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def counting_passes(train_data):
    """(data, passes): `train_data` (a tf.data.Dataset) as a dataset that counts the passes read over it, and a
    function that returns that count. For a new run's start (`App.initialize`), which a resumed run skips:
    `fit(skipped_passes=...)` then moves the shuffle order on by as many. A pass is counted when its first
    batch is read, which is when `train_data`'s own iterator (and its shuffle order) is made.
    """
    import tensorflow as tf

    passes = [0]

    def count(index):
        passes[0] += 1
        return index

    return _read_lazily(train_data, tf.data.Dataset.range(1).map(
        lambda index: tf.py_function(count, [index], tf.int64))), lambda: passes[0]


def _read_lazily(train_data, head):
    """`train_data` behind the one-element dataset `head`: each pass makes `train_data`'s iterator (and draws its
    shuffle order) only when its first batch is read, after `head`'s element. Same size and options."""
    import tensorflow as tf

    wrapped = head.flat_map(lambda _: train_data)
    if train_data.cardinality() >= 0:
        wrapped = wrapped.apply(tf.data.experimental.assert_cardinality(train_data.cardinality()))
    return wrapped.with_options(train_data.options())


def _epoch_ordered(train_data, skipped_passes):
    """`train_data` (a tf.data.Dataset) made to give a resumed run the epoch orders the uninterrupted run had;
    `skipped_passes`: the passes over it the uninterrupted run had made by then that this process has not
    (its completed epochs and any pass before training, `counting_passes`).

    A dataset shuffled with a seed and `reshuffle_each_iteration` (every
    pipeline here) draws each epoch's order from a seed generator that
    advances once per iterator made. A new process starts that generator
    over, so a resumed run would see epoch 1's order again and part from the
    uninterrupted run. Keras also makes iterators it never reads (a spare one
    at each epoch's end when the size is known), so the data is read lazily
    (`_read_lazily`): the generator then advances once per epoch trained, and
    making (and dropping) `skipped_passes` iterators first moves it on to the
    epoch the run resumes at. An iterator only starts reading when asked for
    its first batch.
    """
    import tensorflow as tf

    if not isinstance(train_data, tf.data.Dataset):
        return train_data
    for _ in range(skipped_passes):
        iter(train_data)
    return _read_lazily(train_data, tf.data.Dataset.range(1))


def _fit_into(model, train_data, valid_data, run_dir, restore_dir, *, epochs, monitor, mode, patience, verbose,
              extra_callbacks, reduce_lr_patience, branch_stopping=None, history_from=None, skipped_passes=0):
    # Every worker must decide to save a checkpoint at the same epochs (saving takes part in
    # collective operations), so all start from the best value in the chief's metrics.
    history_from = history_from or run_dir
    logged_epochs = _rows(history_from.metrics_csv)  # the epochs already trained, for the callbacks that count them
    best = _best_so_far(logged_epochs, monitor, mode)
    completed = len(logged_epochs)
    run_dir.best_checkpoint.parent.mkdir(parents=True, exist_ok=True)
    backup = dict(save_freq="epoch", delete_checkpoint=False)  # kept after the end: more --epochs continue
    callbacks = [
        ElapsedTime(_last_value(logged_epochs, "elapsed_seconds")),
        # The backup first: it saves the weights being trained and the optimizer's average as they are, before
        # _averaged_weights swaps them for the epoch's other callbacks.
        keras.callbacks.BackupAndRestore(str(run_dir.backup_dir), **backup) if restore_dir == run_dir.backup_dir
        else BackupAndRestoreFrom(restore_dir, run_dir.backup_dir, **backup),
        *_averaged_weights(model),
        *extra_callbacks,
        keras.callbacks.ModelCheckpoint(
            str(run_dir.best_checkpoint), monitor=monitor, mode=mode, save_best_only=True,
            initial_value_threshold=best,
        ),
        # After the checkpoint, which keeps the weights the epoch validated; a stopped branch's best come back
        # for the next epoch.
        *_branch_stopping(branch_stopping, mode, run_dir, history_from, logged_epochs),
        ResumedEarlyStopping(monitor=monitor, mode=mode, patience=patience, history=logged_epochs),
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.CSVLogger(str(run_dir.metrics_csv), append=True),
        keras.callbacks.TensorBoard(str(run_dir.logs_dir)),
    ]
    callbacks += _reduce_lr(monitor, mode, reduce_lr_patience, logged_epochs)
    # Last: the epoch's other callbacks may draw random numbers too (a validation F1's predictions do).
    callbacks.append(RandomStateBackup(run_dir.random_state_path, completed, history_from.random_state_path))
    if os.environ.get("SEQAPPS_STEP_LOG"):
        callbacks.append(StepLog(os.environ["SEQAPPS_STEP_LOG"]))
    train_data = _epoch_ordered(train_data, skipped_passes + completed)
    with warnings.catch_warnings():
        # A streamed pipeline's size is learnt by its first epoch, which Keras reports as running "out of data".
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        history = model.fit(train_data, validation_data=valid_data, epochs=epochs, callbacks=callbacks,
                            shuffle=False, verbose=verbose)
    if history_from is not run_dir:  # a worker's scratch copy: the chief keeps the model
        return history
    if not run_dir.best_checkpoint.exists():
        raise RuntimeError(f"training produced no finite '{monitor}'; nothing was saved")
    tmp = run_dir.model_path.with_name(".model.keras.tmp")
    shutil.copyfile(run_dir.best_checkpoint, tmp)
    os.replace(tmp, run_dir.model_path)
    return history
