"""Throughput of our cells against Keras' SimpleRNN / GRU / LSTM, and against the matmul peak.

    python bench/cells.py                       (TensorFlow; KERAS_BACKEND=jax for JAX)
    python bench/cells.py --shapes 64,200,128,128 --cells lstm --reps 5

Implementations, all at the same shape (batch, steps, input, units):
  keras  - Keras' own layer (keras.layers.LSTM, ...)
  plain  - our cell in keras.layers.RNN (the input projection inside the loop)
  fast   - our cell in layers.RNN (input projection for all steps at once)
each with jit_compile off and on. Timings are interleaved (one step of every
configuration per round, the median over rounds), so a busy machine slows
all of them alike; compare the ratios. Throughput is in time steps per
second (batch x steps / seconds per call); GFLOP/s counts the matmuls only
(a training step = 3x the forward pass), against the peak of a large matmul
measured in the same run. Writes bench/results/cells_<backend>.md.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import apps  # noqa: E402,F401
import click  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

import layers  # noqa: E402

GATES = {"rnn": 1, "gru": 3, "lstm": 4}
KERAS_LAYERS = {"rnn": keras.layers.SimpleRNN, "gru": keras.layers.GRU, "lstm": keras.layers.LSTM}
IMPLEMENTATIONS = ("keras", "plain", "fast")


def make_layer(implementation, cell, units):
    if implementation == "keras":
        return KERAS_LAYERS[cell](units, return_sequences=True)
    wrapper = layers.RNN if implementation == "fast" else keras.layers.RNN
    return wrapper(layers.CELLS[cell](units), return_sequences=True)


def forward_flops(cell, batch, steps, inputs, units):
    return 2.0 * batch * steps * (inputs + units) * GATES[cell] * units


def matmul_peak(size=2048, repeats=5):
    """GFLOP/s of a [size, size] x [size, size] float32 matmul, the best of `repeats`."""
    a = ops.convert_to_tensor(np.random.default_rng(0).normal(size=(size, size)).astype("float32"))
    float(ops.sum(ops.matmul(a, a)))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        float(ops.sum(ops.matmul(a, a)))
        best = min(best, time.perf_counter() - start)
    return 2.0 * size**3 / best / 1e9


class Configuration:
    def __init__(self, implementation, cell, jit, shape):
        batch, steps, inputs, units = shape
        self.name = (implementation, cell, jit)
        self.model = keras.Sequential([keras.Input((steps, inputs)), make_layer(implementation, cell, units)])
        self.model.compile(keras.optimizers.SGD(1e-3), loss="mse", jit_compile=jit)
        rng = np.random.default_rng(0)
        self.x = rng.normal(size=(batch, steps, inputs)).astype("float32")
        self.y = rng.normal(size=(batch, steps, units)).astype("float32")
        self.train_seconds, self.infer_seconds = [], []

    def warm_up(self):
        self.model.train_on_batch(self.x, self.y)
        self.model.predict_on_batch(self.x)

    def time_once(self):
        start = time.perf_counter()
        self.model.train_on_batch(self.x, self.y)
        self.train_seconds.append(time.perf_counter() - start)
        start = time.perf_counter()
        np.asarray(self.model.predict_on_batch(self.x))
        self.infer_seconds.append(time.perf_counter() - start)


@click.command()
@click.option("--shapes", default="64,200,128,128;256,200,256,512", show_default=True,
              help="batch,steps,input,units; several separated by ';'.")
@click.option("--cells", default="rnn,gru,lstm", show_default=True)
@click.option("--implementations", default=",".join(IMPLEMENTATIONS), show_default=True)
@click.option("--jit", "jit_modes", default="off,on", show_default=True)
@click.option("--reps", default=3, show_default=True, help="Timed rounds per configuration.")
@click.option("--output", default=None, help="Markdown file (default bench/results/cells_<backend>.md).")
def main(shapes, cells, implementations, jit_modes, reps, output):
    backend = keras.backend.backend()
    cells, implementations = cells.split(","), implementations.split(",")
    jits = [mode == "on" for mode in jit_modes.split(",")]
    sections = [f"# Cell throughput, backend {backend}\n",
                f"Machine: {os.uname().machine}, {os.cpu_count()} cores. `python bench/cells.py "
                f"--shapes '{shapes}' --cells {','.join(cells)} --reps {reps}`; median of {reps} interleaved rounds.\n"]
    for shape_text in shapes.split(";"):
        shape = tuple(int(v) for v in shape_text.split(","))
        batch, steps, _, _ = shape
        peak = matmul_peak()
        configurations = [Configuration(i, c, j, shape) for c in cells for i in implementations for j in jits]
        for configuration in configurations:
            configuration.warm_up()
        for _ in range(reps):
            for configuration in configurations:
                configuration.time_once()
        peak = max(peak, matmul_peak())
        rows = []
        for configuration in configurations:
            implementation, cell, jit = configuration.name
            train = float(np.median(configuration.train_seconds))
            infer = float(np.median(configuration.infer_seconds))
            # Keras' own layer with its default (no XLA) is what a user has today.
            same_cell = [c for c in configurations if c.name[1] == cell]
            reference = next((c for c in same_cell if c.name == ("keras", cell, False)), same_cell[0])
            keras_train = float(np.median(reference.train_seconds))
            gflops = 3 * forward_flops(cell, *shape) / train / 1e9
            rows.append(f"| {cell} | {implementation} | {'on' if jit else 'off'} | {train * 1000:.0f} | "
                        f"{batch * steps / train:,.0f} | {batch * steps / infer:,.0f} | {keras_train / train:.2f}x | "
                        f"{gflops:.1f} | {100 * gflops / peak:.0f}% |")
        sections.append(f"\n## batch {shape[0]}, steps {shape[1]}, input {shape[2]}, units {shape[3]}\n\n"
                        f"Matmul peak (2048 x 2048, float32): {peak:.1f} GFLOP/s\n\n"
                        "| cell | implementation | jit_compile | ms per training step | training steps/s | "
                        "inference steps/s | training speed-up vs Keras, jit off | training GFLOP/s | of peak |\n"
                        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n" + "\n".join(rows) + "\n")
        click.echo(sections[-1])
    path = output or os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", f"cells_{backend}.md")
    with open(path, "w") as handle:
        handle.write("\n".join(sections))
    click.echo(f"written to {path}")


if __name__ == "__main__":
    main()
