"""Recurrent classifiers of our cells and a bag of n-grams, trained side by side and averaged as an ensemble.

Each branch maps token ids to one log-odds; the model outputs them all,
branch logits [B, K]. Every branch is trained as a whole classifier on every
example (the loss is the mean of their K cross-entropies), and the model's
P(positive) is sigmoid of their mean. Trained as one sum instead, the bag of
n-grams memorises IMDB's training reviews within two epochs and leaves the
recurrent branch nothing to learn from (bench/exploration/README.md).
A single recurrent classifier without n-grams (and every run made before
the ensemble) outputs P(positive) [B, 1]; `positive_probability` reads both.
"""

import keras
from keras import ops

from apps.common.adversarial import model_class, perturbation
from apps.common.training import weight_averaging
from layers import CELLS, HashedNgramBag, MaskedMaxMeanPooling


def build_model(options, vocabulary_size):
    """token ids [B, T] int64 (0 = padding) -> branch logits [B, K]: K = recurrent branches (+ 1 with n-grams).

    One recurrent branch and no n-grams is the single classifier of the runs
    made before the ensemble, P(positive) [B, 1], built as they were.
    """
    ids = keras.Input((None,), dtype="int64", name="token_ids")
    features = [_recurrent_features(ids, options, vocabulary_size, b) for b in range(options["recurrent_branches"])]
    optimizer = keras.optimizers.Adam(options["learning_rate"], clipnorm=options["clipnorm"],
                                      **weight_averaging(options))
    if len(features) == 1 and not options["ngrams"]:
        probability = keras.layers.Dense(1, activation="sigmoid", name="probability")(features[0])
        model = model_class(options)(ids, probability, name="sentiment")
        model.compile(optimizer=optimizer, loss="binary_crossentropy",
                      metrics=[keras.metrics.BinaryAccuracy(name="accuracy"), keras.metrics.AUC(name="auc")])
        return model
    logits = [keras.layers.Dense(1, kernel_initializer=keras.initializers.GlorotUniform(options["seed"] + 100 * b),
                                 name=f"recurrent_logit_{b}")(x) for b, x in enumerate(features)]
    names = [f"rnn_{b}" for b in range(len(features))]
    if options["ngrams"]:
        logits.append(HashedNgramBag(vocabulary_size, order=options["ngrams"], buckets=options["ngram_buckets"],
                                     rate=options["ngram_dropout"], scale=options["ngram_scale"],
                                     seed=options["seed"], name="ngram_logit")(ids))
        names.append("ngrams")
    model = model_class(options)(ids, keras.layers.Concatenate(name="branch_logits")(logits), name="sentiment")
    model.compile(optimizer=optimizer, loss=BranchCrossentropy(),
                  metrics=[EnsembleAccuracy(name="accuracy"), EnsembleAUC(name="auc"),
                           *[BranchAccuracy(k, name=f"{name}_accuracy") for k, name in enumerate(names)]])
    return model


def _suffix(branch):
    """The suffix of a recurrent branch's layer names: branch 0 keeps the names of the single-model runs."""
    return f"_{branch}" if branch else ""


def _recurrent_features(ids, options, vocabulary_size, branch):
    """One recurrent encoder with its own embedding and seed: ids [B, T] -> pooled features [B, 4 units]."""
    seed = options["seed"] + 100 * branch
    suffix = _suffix(branch)
    x = keras.layers.Embedding(vocabulary_size, options["embedding_dim"], mask_zero=True,
                               embeddings_initializer=keras.initializers.RandomUniform(-0.05, 0.05, seed=seed),
                               name=f"embedding{suffix}")(ids)
    hook = perturbation(options, name=f"embedding_perturbation{suffix}")  # only with --adversarial-epsilon
    x = hook(x) if hook else x
    x = keras.layers.Dropout(options["dropout"], seed=seed, name=f"embedding_dropout{suffix}")(x)
    for i in range(options["layers"]):
        cell = CELLS[options["cell"]](options["units"], seed=seed + i)
        rnn = keras.layers.RNN(cell, return_sequences=True, name=f"rnn_{i}{suffix}")
        if options["bidirectional"]:
            rnn = keras.layers.Bidirectional(rnn, name=f"bidirectional_{i}{suffix}")
        x = rnn(x)
    x = MaskedMaxMeanPooling(name=f"pooling{suffix}")(x)
    return keras.layers.Dropout(options["dropout"], seed=seed, name=f"pooled_dropout{suffix}")(x)


def positive_probability(model, ids, training=False):
    """P(positive) [B] of a sentiment model: the mean of its branches' log-odds, or an old run's own output."""
    outputs = model(ids, training=training)
    if model.layers[-1].name == "probability":  # a run made before the branches
        return ops.reshape(outputs, (-1,))
    return ops.sigmoid(ops.mean(outputs, axis=-1))


def _ensemble_probability(branch_logits):
    return ops.sigmoid(ops.mean(branch_logits, axis=-1, keepdims=True))


@keras.saving.register_keras_serializable(package="sentiment")
class BranchCrossentropy(keras.losses.Loss):
    """Mean over the K branches of each branch's binary cross-entropy: labels [B] or [B, 1], logits [B, K]."""

    def __init__(self, name="branch_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, labels, branch_logits):
        labels = ops.cast(ops.reshape(labels, (-1, 1)), branch_logits.dtype) * ops.ones_like(branch_logits)
        return ops.mean(ops.binary_crossentropy(labels, branch_logits, from_logits=True), axis=-1)


@keras.saving.register_keras_serializable(package="sentiment")
class EnsembleAccuracy(keras.metrics.BinaryAccuracy):
    """Accuracy of the averaged model: labels [B], branch logits [B, K]."""

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(ops.reshape(y_true, (-1, 1)), _ensemble_probability(y_pred), sample_weight)


@keras.saving.register_keras_serializable(package="sentiment")
class EnsembleAUC(keras.metrics.AUC):
    """ROC AUC of the averaged model: labels [B], branch logits [B, K]."""

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(ops.reshape(y_true, (-1, 1)), _ensemble_probability(y_pred), sample_weight)


@keras.saving.register_keras_serializable(package="sentiment")
class BranchAccuracy(keras.metrics.BinaryAccuracy):
    """Accuracy of branch `branch` alone (what each part of the ensemble is worth): labels [B], logits [B, K]."""

    def __init__(self, branch, **kwargs):
        super().__init__(**kwargs)
        self.branch = branch

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(ops.reshape(y_true, (-1, 1)), ops.sigmoid(y_pred[:, self.branch:self.branch + 1]),
                             sample_weight)

    def get_config(self):
        return {**super().get_config(), "branch": self.branch}


def build_run_model(options, vectorizer):
    """build_model for the run's vectorizer."""
    return build_model(options, vectorizer.vocabulary_size())


def language_model_start(model, options, vocabularies=None, train=None):
    """An `App.initialize` part: with --init-from LM_RUN, every recurrent branch's embedding and first
    recurrent layer(s) start from that word-level language model, and with --init-backward-from their
    backward direction from a backward one (`apps.common.pretrained`)."""
    if not options.get("init_from"):
        return None
    from apps.common.pretrained import language_model_start as start

    branches = range(options["recurrent_branches"])
    return start(model, options, vocabularies["tokens"],
                 embeddings=[model.get_layer(f"embedding{_suffix(b)}") for b in branches],
                 recurrent=[[model.get_layer(name) for name in _recurrent_layer_names(options, b)]
                            for b in branches])


def _recurrent_layer_names(options, branch):
    """The recurrent layers of a branch, first to last, by the names _recurrent_features gives them."""
    kind = "bidirectional" if options["bidirectional"] else "rnn"
    return [f"{kind}_{i}{_suffix(branch)}" for i in range(options["layers"])]


def branch_stopping(options):
    """An `App.branch_stopping`: with --branch-patience N and more than one branch, (N, {the validation accuracy
    of each branch: the layers with its weights}); None otherwise (a single classifier, or off)."""
    patience = options.get("branch_patience", "off")
    if patience == "off" or (options["recurrent_branches"] == 1 and not options["ngrams"]):
        return None
    branches = {f"val_rnn_{b}_accuracy": [f"embedding{_suffix(b)}", *_recurrent_layer_names(options, b),
                                          f"recurrent_logit_{b}"] for b in range(options["recurrent_branches"])}
    if options["ngrams"]:
        branches["val_ngrams_accuracy"] = ["ngram_logit"]
    return patience, branches


def bag_start(options):
    """How a run's n-gram bag starts: "naive-bayes", "zero", or None without a bag (--ngram-init auto resolved:
    naive Bayes in memory, zero when streaming, where the count would read the data again first)."""
    if not options.get("ngrams"):
        return None
    start = options.get("ngram_init", "zero")
    if start == "auto":
        return "zero" if options.get("pipeline") == "stream" else "naive-bayes"
    return start


def naive_bayes_start(model, options, vocabularies=None, train=None):
    """An `App.initialize` part: with --ngram-init naive-bayes, the n-gram bag starts as naive Bayes.

    Each row's weight is its log-count ratio r (`naive_bayes_log_ratios` of the
    binarised counts of the training batches `train`; with --pipeline stream,
    of their first --vocabulary-sample texts, so that the start costs a bounded
    pass whatever the corpus size), divided by the
    bag's scale, so that its logit starts as the naive-Bayes score of the
    text's n-grams, divided by the square root of their number. Returns r
    (None when the option is off or the model has no bag).
    """
    if bag_start(options) != "naive-bayes":
        return None
    from datasets.progress import progress

    bag = model.get_layer("ngram_logit")
    if options.get("pipeline") == "stream":  # bounded, as the vocabulary: the first --vocabulary-sample texts
        train = train.take(-(-options["vocabulary_sample"] // options["batch_size"]))
    batches = progress(train, description="counting n-grams for the naive-Bayes start", unit="batches")
    ratios = naive_bayes_log_ratios(ngram_class_counts(bag, batches))
    bag.table.assign((ratios / bag.scale).astype("float32")[:, None])
    return ratios


def ngram_class_counts(bag, batches, classes=2):
    """[rows, classes] float64: in how many examples of each class each row of a `layers.HashedNgramBag` occurs
    (binarised, as NBSVM counts: an n-gram twice in a text counts once). `batches`: (ids [B, T], labels [B]) with
    labels 0..classes-1. TensorFlow only (tf.data batches, `tf.unique`), hence here and not in `layers`.
    """
    import tensorflow as tf

    rows_total = bag.vocabulary_size + (bag.buckets if bag.order > 1 else 0)

    @tf.function(reduce_retracing=True)
    def step(counts, ids, labels):
        rows, kept = bag.ngram_ids(ids)
        example = tf.broadcast_to(tf.range(tf.shape(rows, out_type=tf.int64)[0])[:, None, None], tf.shape(rows))
        unique = tf.unique(tf.boolean_mask(example * rows_total + rows, kept)).y  # (example, row) once each
        label = tf.gather(tf.cast(tf.reshape(labels, [-1]), tf.int64), unique // rows_total)
        return tf.tensor_scatter_nd_add(counts, tf.stack([unique % rows_total, label], axis=1),
                                        tf.ones_like(unique, tf.float64))

    counts = tf.zeros([rows_total, classes], tf.float64)
    for ids, labels in batches:
        counts = step(counts, ids, labels)
    return counts.numpy()


def naive_bayes_log_ratios(counts, alpha=1.0):
    """Wang & Manning (2012)'s log-count ratios r [rows] of binary-class counts [rows, 2] (class 1 over class 0),
    smoothed by `alpha`: log((alpha + p) / |alpha + p|_1) - log((alpha + q) / |alpha + q|_1); 0 for a row that
    occurs in no example."""
    import numpy as np

    smoothed = counts + alpha
    ratios = np.log(smoothed[:, 1] / smoothed[:, 1].sum()) - np.log(smoothed[:, 0] / smoothed[:, 0].sum())
    return np.where(counts.sum(axis=1) > 0, ratios, 0.0)  # a row no example has says nothing


LANGUAGE_MODEL = {"window": 200, "valid_fraction": 0.02, "patience": 2, "layers": 1}
SAMPLED_WORDS = 1024  # the language models' sampled softmax, for vocabularies of more than twice as many words


def pretraining_epochs(options):
    """The epochs of each language model --pretrain-epochs asks for: "auto" is AUTO_PRETRAIN_EPOCHS for an
    encoder that starts from nothing else and has both directions, trained in memory on one machine; 0 otherwise
    (the language models read their text into memory, which --pipeline stream is there to avoid, and are
    trained in the run directory, which only a multi-worker run's chief writes)."""
    from .config import AUTO_PRETRAIN_EPOCHS

    epochs = options.get("pretrain_epochs") or 0
    if epochs != "auto":
        return epochs
    started = options.get("init_from") or options.get("embeddings")
    in_memory = options.get("pipeline", "memory") == "memory"
    one_machine = options.get("strategy") != "multi-worker"
    return AUTO_PRETRAIN_EPOCHS if options["bidirectional"] and in_memory and one_machine and not started else 0


def pretrain_language_models(options, run):
    """An `App.pretrain`: with --pretrain-epochs N, train the forward and backward word-level language models
    of the run's training texts into RUN_DIR/language_models/{forward,backward} (text-generation runs: an
    interrupted one continues, a finished one is kept), and return the options that start the encoder from
    them. Without it, the options as they are. A large vocabulary is trained on a sampled softmax, a small
    one (up to twice SAMPLED_WORDS) on the full softmax, which is then cheap."""
    epochs = pretraining_epochs(options)
    if not epochs:
        return options
    import click

    from apps.common import app as harness
    from apps.common.errors import UserError
    from apps.common.options import RunOptions
    from apps.common.rundir import RunDir
    from apps.textgen.cli import APP as TEXTGEN

    from .data import write_language_model_text

    if not run.writer:
        raise UserError("--pretrain-epochs trains in the run directory, which only the chief writes: pretrain on "
                        "one machine first (lm-text, then apps.textgen) and give --init-from/--init-backward-from")
    folder = run.path / "language_models"
    folder.mkdir(parents=True, exist_ok=True)
    runs = {}
    for direction in ("forward", "backward"):
        lm_dir = folder / direction
        if not (lm_dir / "model.keras").exists():
            text = folder / f"{direction}.txt"
            if not text.exists():
                texts, tokens = write_language_model_text(options, text, options.get("unlabeled_file"),
                                                          reverse=direction == "backward")
                click.echo(f"{direction} language model: {texts:,} texts, {tokens:,} words in {text}")
            words = len(run.read_vocabulary("tokens"))  # the language model's vocabulary is at most as large
            given = {**LANGUAGE_MODEL, "train_file": str(text), "mode": "text", "level": "word",
                     "sampled_softmax": SAMPLED_WORDS if words > 2 * SAMPLED_WORDS else 0,
                     "epochs": epochs, "seed": options["seed"],
                     **{name: options[name] for name in ("cell", "units", "embedding_dim")}}
            click.echo(f"training the {direction} language model into {lm_dir}")
            RunDir(lm_dir, TEXTGEN.name).follow_move("train_file", text)  # begun before the run directory moved
            harness.train(TEXTGEN, lm_dir, given)
        runs[direction] = str(lm_dir)
    return RunOptions({**options, "init_from": runs["forward"], "init_backward_from": runs["backward"]})
