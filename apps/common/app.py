"""The skeleton of every app: an app describes itself once, the harness runs its commands.

How an app is put together (google/flax's examples are the model):

    apps/<name>/config.py    its options (`Options`), each declared once
    apps/<name>/data.py      reading training and evaluation data (pure functions)
    apps/<name>/model.py     building the Keras model
    apps/<name>/evaluate.py  scoring: pure functions returning dicts, no printing
    apps/<name>/serving.py   the graph functions that predict uses and export writes
    apps/<name>/cli.py       `APP = App(...)` and the app's own commands; parses and prints only

`App` names the parts: how to read the data, build the vocabularies, turn
them into the encoders a model needs (a TextVectorization, lookups, ...), make
the tf.data pipelines, build the model, and write the SavedModel. From that,
`train_command`, `export_command`, `evaluate_command` and `predict_command`
make the shared commands, with resume, tf.distribute, run directories,
evaluation files and versioned export done here, once. To add an app: write
those files, describe it with `App`, and build its click group with
`app_group(APP, ...)`; commands of its own (`translate`, `generate`) are
ordinary click commands added to that group. Keras internals are used only
through `layers/keras_internals.py`.
"""

import dataclasses
import json
import typing

import click

from . import cli as common
from .errors import UserError
from .options import Options, RunOptions
from .rundir import RunDir, atomic_write_text


@dataclasses.dataclass(frozen=True)
class TrainingData:
    """What `App.read_training_data` returns: the examples, and what the run records about them."""

    train: typing.Any
    valid: typing.Any
    recorded: dict = dataclasses.field(default_factory=dict)  # e.g. {"labels": [...]}: kept in config.json


@dataclasses.dataclass(frozen=True)
class StreamedTrainingData(TrainingData):
    """TrainingData of two datasets.streaming.StreamedSources (--pipeline stream), and the bounded sample of
    training examples that the vocabularies (and labels or tags) come from."""

    sample: list = dataclasses.field(default_factory=list)


def streamed_sides(options, key_of, read, what):
    """(train StreamedSource, valid StreamedSource, sample) of --pipeline stream's --train-file/--valid-file.

    `read(path)` yields a file's examples, `key_of(example)` the carve's key;
    the sample is the first --vocabulary-sample training examples, one of each
    file in turn. A UserError when there is no file to stream, a DataError when
    the files hold no training example.
    """
    from datasets.errors import DataError
    from datasets.streaming import carved_sources, round_robin

    if not options["train_file"]:
        raise UserError("--pipeline stream reads --train-file (a path, glob or list); other sources are read "
                        "with --pipeline memory")
    train, valid = carved_sources(options["train_file"], options["valid_file"], options["valid_fraction"],
                                  options["seed"])
    kept = lambda path: (example for example in read(path) if train.keep(key_of(example)))  # noqa: E731
    sample = round_robin((kept(path) for path in train.files), options["vocabulary_sample"], what)
    if not sample:
        raise DataError(options["train_file"], f"no training {what} in the files")
    return train, valid, sample


@dataclasses.dataclass
class TrainedRun:
    """A finished run, ready to score, serve or export."""

    run: RunDir
    options: RunOptions
    model: typing.Any
    vocabularies: dict
    encoders: typing.Any


@dataclasses.dataclass(frozen=True)
class App:
    """One app's parts; every function is pure and can be called from a notebook.

    read_training_data(options) -> TrainingData
    build_vocabularies(options, data) -> {name: [token, ...]}, written to the run directory
    make_encoders(options, vocabularies) -> whatever the pipelines, model and serving need
    make_datasets(options, encoders, data) -> (train dataset, validation dataset, summary line)
    build_model(options, encoders) -> a compiled Keras model
    write_saved_model(path, trained, **export options) -> None
    callbacks(options, encoders, valid dataset) -> extra Keras callbacks (default none)
    branch_stopping(options) -> (patience, {validation metric: [layer names]}) or None: parts of the model that
        learn apart, each stopped at its own best epoch (`training.BranchEarlyStopping`); `branch_stopping_option`
        names the option that turns it off (refused with --ema-momentum, whose average would overwrite the
        weights put back)
    check_options(options) -> raise UserError for options that cannot train, before anything is read or written
    check_run(options, path) -> raise UserError for a run this app's commands cannot use
    check_export(trained, **export options) -> raise UserError before anything is written
    pretrain(options, run) -> options for `initialize`: trains what a new run starts from (language models)
        into the run directory first (its options include the unrecorded ones, e.g. strategy); not called
        when a run resumes from a backup
    initialize(model, options, vocabularies, train) -> None; sets weights of a new run (pretrained vectors,
        counts of the training batches `train`) before training; not called when a run resumes from a backup,
        whose weights replace them
    """

    name: str
    options: Options
    vocabularies: tuple
    monitor: str
    mode: str
    read_training_data: typing.Callable
    build_vocabularies: typing.Callable
    make_encoders: typing.Callable
    make_datasets: typing.Callable
    build_model: typing.Callable
    write_saved_model: typing.Callable
    callbacks: typing.Callable = lambda options, encoders, valid: []
    branch_stopping: typing.Callable = lambda options: None
    branch_stopping_option: str = None
    check_options: typing.Callable = lambda options: None
    check_run: typing.Callable = lambda options, path: None
    check_export: typing.Callable = lambda trained, **export_options: None
    pretrain: typing.Callable = lambda options, run: options
    initialize: typing.Callable = lambda model, options, vocabularies, train: None
    custom_objects: dict = dataclasses.field(default_factory=dict)
    reduce_lr_option: str = None  # the option that halves the learning rate on a plateau, if any
    export_options: Options = Options()  # options of `export` beyond --export-base and --version


def train(app, run_dir, given):
    """Train (or continue) a run; returns the RunDir. `given`: the click values of app.options."""
    unrecorded = app.options.pop_unrecorded(given)
    from .distribute import make_strategy

    # First: MultiWorkerMirroredStrategy must exist before other TensorFlow work.
    strategy = make_strategy(unrecorded.get("strategy") or "default", unrecorded.get("cpu_replicas"))
    options = app.options.resolve(given)
    app.check_options(options)
    if options.get("ema_momentum") and app.branch_stopping(options):
        flag = "--" + app.branch_stopping_option.replace("_", "-")
        raise UserError(f"{flag} puts a branch's best weights back, which --ema-momentum's averages would "
                        f"overwrite: give {flag} off with --ema-momentum")
    run = RunDir(run_dir, app.name)
    common.seed_everything(options.seed)
    data = app.read_training_data(options)
    options = RunOptions({**options, **data.recorded})  # what config.json records
    resuming = run.start(options, app.options.resumable, app.options.legacy_defaults)
    vocabularies = _vocabularies(app, run, resuming, options, data)
    encoders = app.make_encoders(options, vocabularies)
    train_ds, valid_ds, summary = app.make_datasets(options, encoders, data)
    click.echo(summary)
    fresh = not (resuming and any(run.backup_dir.glob("*")))  # a backup's weights replace any start
    # The pretraining hook sees the unrecorded options too: what it may do depends on the strategy.
    start = app.pretrain(RunOptions({**options, **unrecorded}), run) if fresh else options
    from .training import counting_passes, fit

    with strategy.scope():
        model = app.build_model(options, encoders)
        if fresh:  # its passes over the training data are recorded: a resumed run skips them in the shuffle order
            counted, passes = counting_passes(train_ds)
            app.initialize(model, start, vocabularies, counted)
            run.write_data_passes(passes())
    try:
        fit(model, train_ds, valid_ds, run, epochs=options.epochs, monitor=app.monitor, mode=app.mode,
            patience=options.patience, extra_callbacks=app.callbacks(options, encoders, valid_ds),
            reduce_lr_patience=options.get(app.reduce_lr_option) if app.reduce_lr_option else None,
            branch_stopping=app.branch_stopping(options), skipped_passes=0 if fresh else run.read_data_passes())
    except Exception as err:  # a bad line met while streaming: its own one-line error, the last epoch kept
        from datasets.streaming import raise_stream_error

        raise_stream_error(err)
    click.echo(f"model written to {run.model_path}" if run.writer else "worker done: the chief writes the run")
    return run


def _vocabularies(app, run, resuming, options, data):
    """The run's vocabularies: read back when resuming, so a resumed run uses the same ids; else built and written."""
    if resuming and all(run.vocabulary_path(name).exists() for name in app.vocabularies):
        return {name: run.read_vocabulary(name) for name in app.vocabularies}
    vocabularies = app.build_vocabularies(options, data)
    for name in app.vocabularies:
        run.write_vocabulary(name, vocabularies[name])
    return vocabularies


def load_run(app, run_dir):
    """The TrainedRun of a finished run directory of `app`."""
    run = RunDir(run_dir, app.name)
    app.check_run(run.read_config(), run_dir)
    # A run made before an option existed was trained with its legacy value.
    options = RunOptions({**app.options.legacy_defaults, **run.trained_options()})
    import keras

    import layers  # noqa: F401  registers our layers for deserialisation

    model = keras.models.load_model(run.model_path, compile=False, custom_objects=app.custom_objects)  # safe mode
    vocabularies = {name: run.read_vocabulary(name) for name in app.vocabularies}
    return TrainedRun(run, options, model, vocabularies, app.make_encoders(options, vocabularies))


def export_run(app, run_dir, export_base="saved_models", version=None, **export_options):
    """Export a trained run as the next (or the given) version; returns its directory.

    `export_options` not given (or None) take their defaults from `app.export_options`.
    """
    from .export import export_versioned

    export_options = app.export_options.values(export_options)
    trained = load_run(app, run_dir)
    app.check_export(trained, **export_options)
    return export_versioned(lambda path: app.write_saved_model(path, trained, **export_options),
                            export_base, app.name, version)


def write_evaluation(trained, result):
    """evaluation.json of the run; returns its path."""
    path = trained.run.evaluation_path
    atomic_write_text(path, json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return path


# Commands. Each returns a click command to add to the app's group.

def app_group(app, help_text, *commands, train_help=None, export_help=None):
    """The app's click group: the shared `train` and `export`, and `commands` (evaluate, predict, its own)."""
    shared = [train_command(app, train_help or "Train into RUN_DIR; run again to continue an interrupted run."),
              export_command(app, export_help or f"Write a SavedModel to EXPORT_BASE/{app.name}/VERSION; prints that "
                                                 "directory last.")]
    return common.AppGroup(app.name, help=help_text, commands={c.name: c for c in [*shared, *commands]})


def train_command(app, help_text):
    @click.command("train", help=help_text)
    @common.run_dir_option
    @app.options.click
    def command(run_dir, **given):
        train(app, run_dir, given)

    return command


def export_command(app, help_text):
    """`export --run-dir DIR [--export-base B] [--version N]` plus the app's own export options."""
    @click.command("export", help=help_text)
    @common.run_dir_option
    @common.export_options
    @app.export_options.click
    def command(run_dir, export_base, version, **given):
        click.echo(str(export_run(app, run_dir, export_base, version, **given)))

    return command


def evaluate_command(app, help_text, scoring, evaluate_options=Options()):
    """`evaluate --run-dir DIR [options]`, from the app's evaluate module `scoring`:
    scoring.evaluate_run(trained, **options) -> result dict; scoring.report(result) -> the text
    printed; the result is written to DIR/evaluation.json."""
    @click.command("evaluate", help=help_text)
    @common.run_dir_option
    @evaluate_options.click
    def command(run_dir, **given):
        trained = load_run(app, run_dir)
        try:
            result = scoring.evaluate_run(trained, **evaluate_options.values(given))
        except Exception as err:  # a bad line met while streaming: its own one-line error
            from datasets.streaming import raise_stream_error

            raise_stream_error(err)
        click.echo(scoring.report(result))
        click.echo(f"\nwritten to {write_evaluation(trained, result)}")

    return command


def predict_command(app, help_text, serve_fn, input_name, print_predictions, predict_options=Options()):
    """`predict (--run-dir DIR | --model SAVED_MODEL) TEXT... [--input-file F] [the app's predict_options]`.

    serve_fn(trained) -> the serving_default function of a run, which takes the
    texts as `input_name`; print_predictions(texts, outputs, **predict_options' values) prints its outputs."""
    @click.command("predict", help=help_text)
    @common.predict_options
    @predict_options.click
    def command(texts, run_dir, saved_model, input_file, **given):
        import tensorflow as tf

        texts = common.read_inputs(texts, input_file)
        if bool(run_dir) == bool(saved_model):
            raise UserError("give exactly one of --run-dir and --model")
        serve = common.load_signature(saved_model) if saved_model else serve_fn(load_run(app, run_dir))
        print_predictions(texts, serve(**{input_name: tf.constant(texts)}), **predict_options.values(given))

    return command
