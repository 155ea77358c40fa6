"""Exploding and vanishing gradients, shown with our cells.

    python bench/textgen_gradients.py [--data-dir ../shared/data] [--steps 400] [--learning-rate 1]
                                      [--learning-rates 0.5,1,2] [--distances 5,10,...] [--copy-steps 1500]

1. Exploding: the Elman cell (`rnn`, apps.textgen's model, 1 x 128 units) trained
   on the names of ../shared/data/names by plain SGD at learning rates around
   where it matters, once with the gradient's global norm clipped to 1 and once
   without. Same data, order and initial weights; deterministic kernels. One
   PNG with both loss curves and the gradient norms at every step (at
   --learning-rate); the largest norms of every run in the table.
2. Vanishing: a copy task whose dependency length is controlled. Each sequence
   is a random symbol, `distance` random filler symbols, then the model must
   name the first symbol (8 symbols: chance is 12.5%). Elman, GRU and LSTM
   cells (32 units) trained the same number of steps at each distance, the
   gated cells also with the chrono initialisation of their gate biases;
   accuracy on new sequences against distance, and how much of the loss's
   gradient reaches the first step (before and after training), one PNG.

Writes bench/results/textgen_gradients.md, textgen_exploding.png and textgen_vanishing.png.
"""

import argparse
import os
import pathlib
import platform
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"


def name_batches(data_dir, batch_size=64):
    """(options, vocabulary size, inputs, targets [N, 100]): the training names read as one running text
    (apps.textgen --mode text, 100-character windows), so that gradients flow back 100 steps."""
    from apps.common.app import TrainingData
    from apps.common.options import RunOptions
    from apps.textgen import config, data

    options = RunOptions({**config.DEFAULTS, "train_file": str(data_dir / "train.txt"),
                          "valid_file": str(data_dir / "valid.txt"), "batch_size": batch_size, "mode": "text",
                          "window": 100})
    train, valid = data.load_examples(options)
    vocabulary = data.make_encoders(options, data.build_vocabularies(options, TrainingData(train, valid)))
    x, y = data.windows(options, vocabulary, train)
    return options, len(vocabulary), x, y


def train_elman(options, vocabulary_size, x, y, steps, learning_rate, clip):
    """(losses, gradient norms before clipping) of SGD steps on the Elman model."""
    import keras
    import numpy as np
    import tensorflow as tf

    from apps.textgen.model import build_model

    keras.utils.set_random_seed(0)
    model = build_model({**options, "cell": "rnn", "units": 128, "layers": 1, "dropout": 0.0}, vocabulary_size)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
    optimizer = keras.optimizers.SGD(learning_rate)
    order = np.random.default_rng(0).permutation(len(x))

    @tf.function(reduce_retracing=True)
    def step(inputs, targets):
        with tf.GradientTape() as tape:
            loss = loss_fn(targets, model(inputs, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        norm = tf.linalg.global_norm(grads)
        if clip:
            grads, _ = tf.clip_by_global_norm(grads, 1.0, use_norm=norm)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss, norm

    losses, norms = [], []
    for i in range(steps):
        batch = order[(i * 64) % len(x):][:64]
        loss, norm = step(x[batch], y[batch])
        losses.append(float(loss))
        norms.append(float(norm))
    return losses, norms


def copy_task(cell, distance, steps, symbols=8, seed=0):
    """(accuracy on 1,000 new sequences, gradient reach at initialisation, gradient reach after training) of a
    model that must recall the first symbol after `distance` others.

    The gradient reach is the vanishing factor itself: the mean norm of the
    loss's gradient with respect to the first input vector over that with
    respect to the last, on 256 new sequences.
    """
    import keras
    import numpy as np
    import tensorflow as tf

    from layers import CELLS

    rng = np.random.default_rng(seed)

    def sequences(n):
        x = rng.integers(1, symbols + 1, size=(n, distance + 1))
        return x, x[:, 0] - 1

    keras.utils.set_random_seed(seed)
    kind, _, init = cell.partition("-")
    extra = chrono_initialisation(kind, 32, longest=2 * (distance + 1), seed=seed) if init == "chrono" else {}
    embedding, rnn, output = keras.layers.Embedding(symbols + 1, 16), keras.layers.RNN(CELLS[kind](32, **extra)), \
        keras.layers.Dense(symbols)
    model = keras.Sequential([keras.Input((None,), dtype="int32"), embedding, rnn, output])
    model.compile(keras.optimizers.Adam(3e-3, clipnorm=1.0),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    probe_x, probe_y = sequences(256)

    def reach():
        vectors = embedding(probe_x)
        with tf.GradientTape() as tape:
            tape.watch(vectors)
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(probe_y, output(rnn(vectors)))
        norms = tf.reduce_mean(tf.norm(tape.gradient(loss, vectors), axis=-1), axis=0)  # [distance + 1]
        return float(norms[0] / norms[-1])

    at_start = reach()
    x, y = sequences(steps * 32)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False)
    test_x, test_y = sequences(1000)
    return float(model.evaluate(test_x, test_y, verbose=0)[1]), at_start, reach()


def chrono_initialisation(kind, units, longest, seed):
    """Cell arguments of Tallec & Ollivier (2018)'s chrono initialisation: the gates that carry the state start
    open for about `longest` steps.

    LSTM: forget-gate bias log(U(1, longest - 1)), input-gate bias its negative
    (gates i, f, c, o); GRU: update-gate bias log(U(1, longest - 1)) (the
    first block: a = z a_prev + (1 - z) candidate, so a large z carries a_prev).
    """
    import numpy as np

    carry = np.log(np.random.default_rng(seed).uniform(1, longest - 1, units))

    def initializer(shape, dtype=None):
        bias = np.zeros(shape, "float32")
        if kind == "lstm":
            bias[units:2 * units], bias[:units] = carry, -carry
        else:  # GRU, reset_after: (input bias, recurrent bias) rows of 3 * units
            bias[0, :units] = carry
        return bias.astype(dtype or "float32")

    return {"bias_initializer": initializer, **({"unit_forget_bias": False} if kind == "lstm" else {})}


def plot_exploding(runs, path, learning_rate):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    for label, (losses, norms) in runs.items():
        top.plot(losses, label=label)
        bottom.plot(norms, label=label)
    top.set_ylabel("training loss (NLL/char)")
    top.set_ylim(0, 8)
    bottom.set_yscale("log")
    bottom.set_ylabel("gradient norm (before clipping)")
    bottom.set_xlabel("SGD step")
    top.legend()
    top.set_title(f"Elman RNN on names: SGD at learning rate {learning_rate:g}, with and without clipping")
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


def plot_vanishing(results, distances, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for cell, values in results.items():
        line, = left.plot(distances, [v[0] for v in values], marker="o", label=cell)
        right.plot(distances, [v[1] for v in values], marker="o", linestyle=":", color=line.get_color(),
                   label=f"{cell}, initialised")
        right.plot(distances, [v[2] for v in values], marker="o", color=line.get_color(), label=f"{cell}, trained")
    left.axhline(1 / 8, color="gray", linestyle=":", label="chance")
    left.set(xscale="log", xlabel="distance between the symbol and its recall (steps)",
             ylabel="accuracy on new sequences", title="Copy task: how far each cell carries information")
    right.set(xscale="log", yscale="log", xlabel="distance (steps)",
              ylabel="|dL/dx_first| / |dL/dx_last|", title="Gradient reaching the first step")
    left.legend()
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


def distance_table(results, distances, cell_text):
    """Markdown rows: a column per distance, a row per cell, `cell_text(result)` in each."""
    return ["| cell | " + " | ".join(f"distance {d}" for d in distances) + " |",
            "| --- " * (len(distances) + 1) + "|",
            *[f"| {cell} | " + " | ".join(cell_text(v) for v in values) + " |" for cell, values in results.items()]]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--learning-rate", type=float, default=1.0, help="SGD learning rate of the PNG's runs")
    parser.add_argument("--learning-rates", default="0.5,1,2", help="SGD learning rates of the table")
    parser.add_argument("--distances", default="5,10,20,40,80")
    parser.add_argument("--copy-steps", type=int, default=1500,
                        help="Adam steps of the copy task, per cell and distance")
    parser.add_argument("--cells", default="rnn,gru,lstm,gru-chrono,lstm-chrono", help="cells of the copy task")
    parser.add_argument("--copy-only", action="store_true",
                        help="only the copy task, written to textgen_gradients_copy-<steps>.md and its PNG")
    args = parser.parse_args()
    import math

    import apps  # noqa: F401  quiet TensorFlow, our `datasets`
    import tensorflow as tf

    # Unclipped SGD near divergence is chaotic: without deterministic kernels the last bits of multi-threaded
    # sums differ from run to run, and so does whether (and when) it explodes.
    tf.config.experimental.enable_op_determinism()
    distances = [int(d) for d in args.distances.split(",")]
    results = {cell: [copy_task(cell, d, args.copy_steps) for d in distances] for cell in args.cells.split(",")}
    suffix = f"_copy-{args.copy_steps}" if args.copy_only else ""
    plot_vanishing(results, distances, RESULTS / f"textgen_vanishing{suffix}.png")
    vanishing = [
        "## Vanishing: recall the first of `distance + 1` symbols (8 symbols, chance 12.5%), 32 units, "
        f"{args.copy_steps} Adam steps of 32 sequences each, accuracy on 1,000 new sequences "
        f"(textgen_vanishing{suffix}.png)",
        "",
        "`-chrono`: the gate biases of Tallec & Ollivier's chrono initialisation (LSTM forget gate, GRU update gate: "
        "log U(1, 2 (distance + 1) - 1); LSTM input gate: its negative); the others: our cells' defaults (orthogonal "
        "recurrent matrices, LSTM forget bias 1).",
        "",
        *distance_table(results, distances, lambda v: f"{100 * v[0]:.1f}%"),
        "",
        "Gradient reach: the mean norm of the loss's gradient with respect to the first input vector over that with "
        "respect to the last (256 new sequences), at initialisation -> after training; below 1 it vanished on the way "
        "back.",
        "",
        *distance_table(results, distances, lambda v: f"{v[1]:.2g} -> {v[2]:.2g}"),
    ]
    command = (f"`python bench/textgen_gradients.py --distances {args.distances} --copy-steps {args.copy_steps} "
               f"--cells {args.cells}")
    if args.copy_only:
        lines = ["# Vanishing gradients with our cells: the copy task", "",
                 f"{command} --copy-only` on {platform.machine()}, {os.cpu_count()} cores, TensorFlow's deterministic "
                 "kernels on.", "", *vanishing]
        (RESULTS / f"textgen_gradients{suffix}.md").write_text("\n".join(lines) + "\n")
        print("\n".join(lines))
        return
    options, vocabulary_size, x, y = name_batches(pathlib.Path(args.data_dir) / "names")
    rates = sorted({float(r) for r in args.learning_rates.split(",")} | {args.learning_rate})
    runs = {(rate, clip): train_elman(options, vocabulary_size, x, y, args.steps, rate, clip)
            for rate in rates for clip in (True, False)}
    plot_exploding({"clipped to norm 1": runs[args.learning_rate, True],
                    "not clipped": runs[args.learning_rate, False]},
                   RESULTS / "textgen_exploding.png", args.learning_rate)
    final = lambda losses: sum(losses[-50:]) / len(losses[-50:])  # noqa: E731
    lines = [
        "# Exploding and vanishing gradients with our cells",
        "",
        f"{command} --steps {args.steps} --learning-rate {args.learning_rate} --learning-rates {args.learning_rates}` "
        f"on {platform.machine()}, {os.cpu_count()} cores, TensorFlow's deterministic kernels on.",
        "",
        f"## Exploding: Elman RNN (128 units) on ../shared/data/names read as running text (100-character "
        f"windows), plain SGD, batches of 64, {args.steps} steps, the same initial weights and batches in every run "
        f"(textgen_exploding.png: learning rate {args.learning_rate})",
        "",
        "| learning rate | gradient | largest gradient norm | steps with norm > 10 | mean loss of the last 50 steps "
        "| non-finite losses |",
        "| --- | --- | --- | --- | --- | --- |",
        *[f"| {rate:g} | {'clipped to norm 1' if clip else 'not clipped'} | {max(norms):,.1f} | "
          f"{sum(n > 10 for n in norms)} | {final(losses):.3f} | {sum(not math.isfinite(v) for v in losses)} |"
          for (rate, clip), (losses, norms) in runs.items()],
        "",
        *vanishing,
    ]
    (RESULTS / "textgen_gradients.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
