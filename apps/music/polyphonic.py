"""The polyphonic benchmark: next-step prediction of 88-key piano rolls.

Reports the negative log-likelihood per time step: the sum over the 88 keys of
the Bernoulli NLL, averaged over all time steps (Boulanger-Lewandowski et al.
2012; Chung et al. 2014, Table 2), the first frame of each piece included
(datasets.polyphonic). The models output logits and the NLL is computed from
them exactly (log-sigmoid, no clipping); the training loss of a batch is
its NLL per real step (padding neither counted nor averaged in), and the
"nll" / "val_nll" of each epoch are the exact per-step figures over the epoch.
"""

import keras
from keras import ops

from apps.common.training import weight_averaging
from datasets.polyphonic import KEYS
from layers import CELLS, RNN, AutoregressiveBernoulli

# Chung et al. 2014: about 20k parameters per model.
CHUNG_UNITS = {"rnn": 100, "gru": 46, "lstm": 36}
OUTPUTS = ("independent", "autoregressive")


def summed_nll(targets, logits):
    """Bernoulli NLL from logits, summed over the keys: targets, logits [B, T, 88] -> [B, T].

    Exact for any logit (Keras computes softplus(z) - y z, no clipping), so a
    confident wrong key costs what the model says.
    """
    logits = ops.convert_to_tensor(logits)
    return ops.sum(ops.binary_crossentropy(ops.cast(targets, logits.dtype), logits, from_logits=True), axis=-1)


@keras.saving.register_keras_serializable(package="seqapps")
class NLLPerStepLoss(keras.losses.Loss):
    """The summed Bernoulli NLL of a batch divided by its real steps (sample weights [B, T], 0 at padding)."""

    def __init__(self, name="nll_per_step", reduction="mean_with_sample_weight", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        return summed_nll(y_true, y_pred)


@keras.saving.register_keras_serializable(package="seqapps")
class NLLPerStep(keras.metrics.Metric):
    """Summed Bernoulli NLL over every real step seen / their number: exact over an epoch, padding excluded."""

    def __init__(self, name="nll", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total", aggregation="sum")
        self.steps = self.add_variable(shape=(), initializer="zeros", name="steps", aggregation="sum")

    def update_state(self, y_true, y_pred, sample_weight=None):
        nll = summed_nll(y_true, y_pred)
        weights = ops.ones_like(nll) if sample_weight is None else ops.cast(sample_weight, nll.dtype)
        self.total.assign_add(ops.cast(ops.sum(nll * weights), self.dtype))
        self.steps.assign_add(ops.cast(ops.sum(weights), self.dtype))

    def result(self):
        return ops.divide_no_nan(self.total, self.steps)

    def reset_state(self):
        self.total.assign(0.0)
        self.steps.assign(0.0)


OPTIMIZERS = {"adam": keras.optimizers.Adam, "rmsprop": keras.optimizers.RMSprop}


def build_model(cell, units, *, layers=1, dropout=0.0, learning_rate=1e-3, clipnorm=1.0, seed=0,
                output="independent", output_units=0, optimizer="adam", ema_momentum=0.0):
    """rolls [B, T, 88] -> logits of P(key on at t+1) [B, T, 88] (sigmoid them for probabilities).

    `output="independent"`: 88 sigmoids given the state, as in Chung et al.
    2014. `output="autoregressive"`: `AutoregressiveBernoulli` (a NADE/MADE
    output, `output_units` hidden units) models the keys of the next step
    jointly, the model's second input being that next step [B, T, 88] (only
    keys below k reach key k's logit); the loss stays the summed binary
    cross-entropy, now the exact joint NLL. The loss is `NLLPerStepLoss`
    (per real step), with the `NLLPerStep` metric ("nll", "val_nll").
    `dropout` is on the connections between layers and into the output layer,
    not on the recurrent ones (Zaremba et al. 2014). `optimizer`: "adam" or
    "rmsprop" (Chung et al.'s), both with the gradient clipped to `clipnorm`;
    `ema_momentum` > 0 averages the weights (`apps.common.training.weight_averaging`).
    """
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {tuple(OPTIMIZERS)}, got {optimizer!r}")
    inputs = keras.Input((None, KEYS), name="piano_roll")
    x = inputs
    for i in range(layers):
        x = RNN(CELLS[cell](units, dropout=dropout if i else 0.0, seed=seed + i), return_sequences=True,
                name=f"rnn_{i}")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, seed=seed + layers, name="output_dropout")(x)
    if output == "autoregressive":
        next_step = keras.Input((None, KEYS), name="next_step")
        outputs = AutoregressiveBernoulli(output_units, dropout=dropout, seed=seed + layers + 1, returns="logits",
                                          name="next_step_joint")([x, next_step])
        inputs = [inputs, next_step]
    else:
        outputs = keras.layers.Dense(KEYS, name="next_step")(x)  # logits
    model = keras.Model(inputs, outputs, name=f"polyphonic_{cell}")
    # weighted_metrics: Keras hands the sample weights (0 at padding) to these only, not to `metrics`.
    averaging = weight_averaging({"ema_momentum": ema_momentum})
    model.compile(OPTIMIZERS[optimizer](learning_rate, clipnorm=clipnorm, **averaging), loss=NLLPerStepLoss(),
                  weighted_metrics=[NLLPerStep()])
    return model


def model_inputs(model, history, next_step):
    """What the model takes: the history, and for an autoregressive output also the step it scores."""
    return (history, next_step) if len(model.inputs) == 2 else history


def nll_step(model):
    """A compiled step: (inputs, targets [B, T, 88], weights [B, T]) -> (summed NLL of real steps, real steps)."""
    from apps.common.evaluation import compiled

    def step(inputs, targets, weights):
        nll = summed_nll(targets, model(model_inputs(model, inputs, targets), training=False))
        return ops.sum(nll * weights), ops.sum(weights)

    return compiled(step)


def nll_per_step(model, dataset, step=None):
    """Exact mean over all real time steps of the summed Bernoulli NLL (`step`: a `nll_step(model)` to reuse)."""
    from apps.common.evaluation import map_batches

    sums = map_batches(step or nll_step(model), dataset, description="validation NLL")
    return float(sum(float(total) for total, _ in sums) / sum(float(steps) for _, steps in sums))


CHUNG_TEST = {("jsb_chorales", "rnn"): 9.10, ("jsb_chorales", "gru"): 8.54, ("jsb_chorales", "lstm"): 8.67,
              ("nottingham", "rnn"): 3.13, ("nottingham", "gru"): 3.23, ("nottingham", "lstm"): 3.20}


def _plot_learning_curve(path, title, history):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3))
    epochs = [int(r["epoch"]) + 1 for r in history]
    # Runs before the exact per-step metric logged only the loss, averaged over padded positions too.
    train, label = ("nll", "train (NLL per step)") if "nll" in history[0] else ("loss", "train (loss, padding in)")
    ax.plot(epochs, [float(r[train]) for r in history], label=label)
    ax.plot(epochs, [float(r["val_nll"]) for r in history], label="validation NLL")
    ax.set_xlabel("epoch")
    ax.set_ylabel("NLL per time step")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


def _table_row(result, history):
    """One benchmark.md row of a run's evaluation.json and metrics."""
    chung_size = (result["units"] == CHUNG_UNITS[result["cell"]] and result.get("layers", 1) == 1
                  and result.get("output_layer", "independent") == "independent")
    reference = CHUNG_TEST.get((result["dataset"], result["cell"])) if chung_size else None
    output = result.get("output_layer", "independent")
    if output == "autoregressive":
        output = f"autoregressive {result['output_units']}"
    training = result.get("optimizer", "adam")
    if result.get("weight_noise"):
        training += f", weight noise {result['weight_noise']}"
    return (f"| {result['dataset']} | {result['cell']} | {result['units']} | {result.get('layers', 1)} | "
            f"{output} | "
            f"{result.get('dropout', 0.0)} | {result.get('window') or 'whole'} | {training} | "
            f"{result['parameters']} | "
            f"{result['valid_nll_per_step']:.2f} | {len(history)} | "
            f"{float(history[-1]['elapsed_seconds']) / 60:.1f} min | "
            f"{reference if reference else '-'} |")


def write_report(run_dir):
    """benchmark.md (every run under run_dir) and a learning-curve PNG per run; returns the table."""
    import csv
    import json
    import pathlib

    rows = []
    for run in sorted(pathlib.Path(run_dir).iterdir()):
        evaluation, metrics = run / "evaluation.json", run / "metrics.csv"
        if not (evaluation.exists() and metrics.exists()):
            continue
        history = list(csv.DictReader(open(metrics)))
        _plot_learning_curve(pathlib.Path(run_dir) / f"{run.name}.png", run.name, history)
        rows.append(_table_row(json.loads(evaluation.read_text()), history))
    table = "\n".join([
        "| data | cell | units | layers | output | dropout | training pieces | optimizer | parameters | "
        "validation NLL/step | "
        "epochs | time | Chung et al. 2014 (test) |",
        "| --- " * 13 + "|", *rows])
    (pathlib.Path(run_dir) / "benchmark.md").write_text(table + "\n")
    return table
