"""Training on several devices or machines with tf.distribute, for every app.

    --strategy default       one device (TensorFlow's default strategy)
    --strategy mirrored      tf.distribute.MirroredStrategy over all visible GPUs,
                             or over --cpu-replicas logical CPU devices
    --strategy multi-worker  tf.distribute.MultiWorkerMirroredStrategy; the
                             cluster and this worker's role come from TF_CONFIG

`--batch-size` is the global batch: Keras splits each batch across the
replicas. In a multi-worker run only the chief writes the run directory
(config, vocabularies, checkpoints, backups, logs, metrics, model); the other
workers train in lockstep and restore from the chief's backup when restarted,
so the run directory must be on a filesystem they all see.
"""

import json
import os

from .errors import UserError

STRATEGIES = ("default", "mirrored", "multi-worker")


def task_of(tf_config_text):
    """(task type, index) of this process from TF_CONFIG's text; ('chief', 0) when unset."""
    if not tf_config_text:
        return "chief", 0
    try:
        task = json.loads(tf_config_text).get("task") or {}
    except (json.JSONDecodeError, AttributeError):
        raise UserError("TF_CONFIG is not a JSON object with 'cluster' and 'task'") from None
    return task.get("type", "chief"), int(task.get("index", 0))


def is_chief(tf_config_text=None):
    """Whether this process writes the run directory.

    The chief is the task of type 'chief', or worker 0 when the cluster has
    no chief (TensorFlow's convention); every single-process run is the chief.
    """
    text = os.environ.get("TF_CONFIG", "") if tf_config_text is None else tf_config_text
    task_type, index = task_of(text)
    if task_type == "chief":
        return True
    if task_type != "worker":
        return False
    cluster = json.loads(text).get("cluster", {})
    return index == 0 and "chief" not in cluster


def split_cpu(replicas):
    """Expose the CPU as `replicas` logical devices; must run before TensorFlow starts its devices."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    wanted = [tf.config.LogicalDeviceConfiguration() for _ in range(replicas)]
    current = tf.config.get_logical_device_configuration(cpu)
    if current is not None and len(current) == replicas:
        return
    try:
        tf.config.set_logical_device_configuration(cpu, wanted)
    except RuntimeError:
        raise UserError(f"--cpu-replicas {replicas}: TensorFlow's devices were already set up in this process "
                        f"with {len(current or [1])} CPU device(s)") from None


def make_strategy(name, cpu_replicas=None):
    """The tf.distribute strategy for --strategy NAME (created before any other TensorFlow work)."""
    import tensorflow as tf

    if name not in STRATEGIES:
        raise UserError(f"--strategy {name!r}: choose one of {', '.join(STRATEGIES)}")
    if cpu_replicas:
        split_cpu(cpu_replicas)
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=devices)
    if not os.environ.get("TF_CONFIG"):
        raise UserError("--strategy multi-worker needs the TF_CONFIG environment variable (cluster and task)")
    task_of(os.environ["TF_CONFIG"])  # a clear error for malformed JSON
    from layers.keras_internals import fix_multi_worker_mean

    fix_multi_worker_mean()
    return tf.distribute.MultiWorkerMirroredStrategy()


def shard_by_data(dataset):
    """Each worker takes every n-th batch of an in-memory pipeline; a pipeline sharded by file is left alone."""
    import tensorflow as tf

    if dataset.options().experimental_distribute.auto_shard_policy == tf.data.experimental.AutoShardPolicy.OFF:
        return dataset  # a streamed pipeline that already reads only this worker's files
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)
