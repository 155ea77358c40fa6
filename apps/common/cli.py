"""The CLI contract of every app: shared options, and errors as one line, never a traceback."""

import os
import sys

import click

from datasets.errors import DataError

from .errors import UserError


class AppGroup(click.Group):
    """A click group whose user errors end as `Error: <one line>` and a non-zero exit."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (DataError, UserError) as err:
            raise click.ClickException(str(err)) from None
        except KeyboardInterrupt:
            click.echo("\nInterrupted. Run the same command again to continue from the last completed epoch.",
                       err=True)
            sys.exit(130)

    def main(self, args=None, prog_name=None, **kwargs):
        from apps.tensorflow_logs import filtered_stderr

        with filtered_stderr():  # TensorFlow's harmless C++ log lines stay off the terminal
            return self._main(args, prog_name, **kwargs)

    def _main(self, args=None, prog_name=None, **kwargs):
        kwargs.pop("standalone_mode", None)
        try:
            return super().main(args=args, prog_name=prog_name, standalone_mode=False, **kwargs)
        except click.UsageError as err:  # a bad option: one line that names it
            ctx = f"{err.ctx.command_path}: " if err.ctx else ""
            click.echo(f"Error: {ctx}{err.format_message()}", err=True)
            sys.exit(err.exit_code)
        except click.ClickException as err:
            click.echo(f"Error: {err.format_message()}", err=True)
            sys.exit(err.exit_code)
        except click.exceptions.Abort:
            sys.exit(1)


def run_dir_option(func):
    return click.option("--run-dir", required=True, type=click.Path(file_okay=False),
                        help="Directory of the run: config, vocabulary, checkpoints, logs, metrics.")(func)


def export_options(func):
    func = click.option("--version", type=click.IntRange(min=1), default=None,
                        help="Version number (default: the next free one).")(func)
    func = click.option("--export-base", type=click.Path(file_okay=False), default="saved_models",
                        show_default=True, help="Root of the TensorFlow Serving layout.")(func)
    return func


def seed_everything(seed):
    """Same seed, same data -> same metrics on the CPU."""
    import keras
    import tensorflow as tf

    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def format_table(rows, headers):
    """A plain-text table: headers, a rule, then the rows, columns padded to their widest cell."""
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([line.format(*headers), "  ".join("-" * w for w in widths),
                      *(line.format(*row) for row in rows)])


def read_inputs(texts, input_file):
    """TEXT arguments plus the lines of --input-file (- for stdin); at least one."""
    texts = list(texts)
    if input_file:
        stream = sys.stdin if input_file == "-" else open(input_file, encoding="utf-8", errors="replace")
        with stream:
            texts += [line.rstrip("\r\n") for line in stream if line.strip()]
    if not texts:
        raise UserError("nothing to predict: give TEXT arguments, --input-file F, or --input-file - for stdin")
    return texts


def load_signature(saved_model, name="serving_default"):
    """A signature of an exported SavedModel, or a UserError naming the directory."""
    import tensorflow as tf

    try:
        return tf.saved_model.load(saved_model).signatures[name]
    except (OSError, KeyError, ValueError) as err:
        raise UserError(f"{saved_model}: not a SavedModel with signature {name!r} ({err})") from None


def predict_options(func):
    func = click.option("--input-file", help="One text per line; - reads standard input.")(func)
    func = click.option("--model", "saved_model", type=click.Path(file_okay=False),
                        help="An exported SavedModel instead of a run directory.")(func)
    func = click.option("--run-dir", type=click.Path(file_okay=False), help="A trained run.")(func)
    return click.argument("texts", nargs=-1)(func)
