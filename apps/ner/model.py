"""Word embedding + character CNN -> stacked BiRNN of our cells -> CRF or softmax; with --ensemble N, N such
taggers side by side in one model, each trained on its own loss and decoded together from their mean scores."""

import keras
from keras import ops

from apps.common.adversarial import model_class, perturbation
from apps.common.training import weight_averaging
from layers import CELLS, CRF, CRFLoss, CharCNN, NeighbourWordLoss, Stack, TokenDropout
from layers.crf import ensemble_decode

from .config import member_rates


def build_model(options, num_words, num_chars, num_tags):
    """{"words": [B, T], "chars": [B, T, C]} int64 (0 = padding) -> tag scores [B, T, K].

    With the CRF output the scores are emissions, decoded by `decode`; with
    softmax they are probabilities. An ensemble of M taggers outputs every
    member's scores, [B, T, M, K]; each member is trained on its own loss.
    """
    words = keras.Input((None,), dtype="int64", name="words")
    chars = keras.Input((None, None), dtype="int64", name="chars")
    members = range(options["ensemble"])
    features = [_tagger_features(options, words, chars, num_words, num_chars, m) for m in members]
    if options["output"] == "crf":
        crfs = [CRF(num_tags, name=f"crf{_suffix(m)}") for m in members]
        outputs = [crf(keras.layers.Dense(num_tags, name=f"emissions{_suffix(m)}")(x))
                   for m, (crf, x) in enumerate(zip(crfs, features))]
        loss = CRFLoss(crfs if len(crfs) > 1 else crfs[0])
    else:
        outputs = [keras.layers.Dense(num_tags, activation="softmax", name=f"tag_probabilities{_suffix(m)}")(x)
                   for m, x in enumerate(features)]
        loss = MemberCrossentropy() if len(outputs) > 1 else \
            keras.losses.SparseCategoricalCrossentropy(ignore_class=-1)
    output = Stack(axis=2, name="members")(outputs) if len(outputs) > 1 else outputs[0]
    model = model_class(options)({"words": words, "chars": chars}, output, name="ner")
    model.compile(optimizer=keras.optimizers.Adam(options["learning_rate"], clipnorm=options["clipnorm"],
                                                  **weight_averaging(options)),
                  loss=loss)
    return model


def _suffix(member):
    return f"_{member}" if member else ""  # member 0 keeps the names of the single-tagger runs


def member_f1_name(member):
    """The validation metric of one tagger of an ensemble, decoded alone (`entity_f1_callback`)."""
    return f"val_f1_member_{member}"


def member_stopping(options):
    """An `App.branch_stopping`: with --member-patience N and an --ensemble, (N, {each tagger's own validation
    F1: the layers with its weights}); None otherwise (a single tagger, or off)."""
    patience = options.get("member_patience", "off")
    if patience == "off" or options["ensemble"] == 1:
        return None
    return patience, {member_f1_name(m): _member_layer_names(options, m) for m in range(options["ensemble"])}


def _member_layer_names(options, member):
    """The layers of one tagger that have weights, by the names build_model gives them."""
    suffix = _suffix(member)
    names = [f"word_embedding{suffix}", *([f"char_cnn{suffix}"] if options["char_features"] else []),
             *(f"bidirectional_{i}{suffix}" for i in range(options["layers"])),
             *([f"neighbour_words{suffix}"] if options["lm_weight"] > 0 else [])]
    if options["output"] == "crf":
        return names + [f"emissions{suffix}", f"crf{suffix}"]
    return names + [f"tag_probabilities{suffix}"]


def _tagger_features(options, words, chars, num_words, num_chars, member):
    """One member's word embedding, character CNN and BiRNN: -> features [B, T, 2 units]."""
    seed, suffix = options["seed"] + 100 * member, _suffix(member)
    rate = member_rates(options["word_dropout"], options["ensemble"])[member]
    dropped = TokenDropout(rate, seed=seed, name=f"word_dropout{suffix}")(words)
    x = keras.layers.Embedding(num_words, options["word_dim"], mask_zero=True, name=f"word_embedding{suffix}")(dropped)
    if options["char_features"]:
        char_features = CharCNN(num_chars, options["char_dim"], options["char_filters"],
                                name=f"char_cnn{suffix}")(chars)
        x = keras.layers.Concatenate(name=f"word_and_chars{suffix}")([x, char_features])
    hook = perturbation(options, name=f"embedding_perturbation{suffix}")  # only with --adversarial-epsilon
    x = hook(x) if hook else x
    x = keras.layers.Dropout(options["dropout"], name=f"input_dropout{suffix}")(x)
    for i in range(options["layers"]):
        cell = CELLS[options["cell"]](options["units"], recurrent_dropout=options["recurrent_dropout"], seed=seed + i)
        x = keras.layers.Bidirectional(keras.layers.RNN(cell, return_sequences=True, name=f"rnn_{i}{suffix}"),
                                       name=f"bidirectional_{i}{suffix}")(x)
        if i == options["layers"] - 1 and options["lm_weight"] > 0:
            x = NeighbourWordLoss(min(options["lm_words"], num_words), options["lm_weight"],
                                  name=f"neighbour_words{suffix}")([x, words])
        x = keras.layers.Dropout(options["dropout"], name=f"dropout_{i}{suffix}")(x)
    return x


@keras.saving.register_keras_serializable(package="ner")
class MemberCrossentropy(keras.losses.Loss):
    """Sum over an ensemble's members of each one's cross-entropy averaged over the batch's real tokens.

    gold tags [B, T] (-1 at padding), probabilities [B, T, M, K] -> [B, T],
    each token's loss already divided by the batch's number of real tokens,
    so that the reduction "sum" gives each member the loss, and the gradient,
    that `SparseCategoricalCrossentropy(ignore_class=-1)` gives a tagger alone.
    """

    def __init__(self, name="member_crossentropy", reduction="sum", **kwargs):
        super().__init__(name=name, reduction=reduction, **kwargs)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "int32")
        real = ops.cast(y_true >= 0, y_pred.dtype)
        gold = ops.broadcast_to(ops.expand_dims(ops.maximum(y_true, 0), -1), ops.shape(y_pred)[:3])
        per_token = ops.sum(keras.losses.sparse_categorical_crossentropy(gold, y_pred), axis=-1) * real
        return per_token / ops.maximum(ops.sum(real), 1.0)


def decode(model, scores, words):
    """Tag ids [B, T] int32 from the model's output (an ensemble's [B, T, M, K]); 0 at padding."""
    mask = words > 0
    crfs = _crfs(model)
    if len(crfs) == 1:
        return crfs[0].decode(scores, mask)
    if crfs:
        return ensemble_decode(crfs, scores, mask)
    if len(scores.shape) == 4:
        scores = ops.mean(scores, axis=2)  # the members' mean probabilities
    return ops.where(mask, ops.cast(ops.argmax(scores, axis=-1), "int32"), 0)


def decode_members(model, scores, words):
    """Each member's own tag ids, as if it were alone: [M, B, T] int32 from an ensemble's scores [B, T, M, K]."""
    mask = words > 0
    crfs = _crfs(model)
    if crfs:
        return ops.stack([crf.decode(scores[:, :, m], mask) for m, crf in enumerate(crfs)])
    ids = ops.cast(ops.argmax(scores, axis=-1), "int32")  # [B, T, M]
    return ops.transpose(ops.where(ops.expand_dims(mask, -1), ids, 0), (2, 0, 1))


def ensemble_size(model):
    """M, the number of taggers the model averages (1 for a single tagger)."""
    shape = model.outputs[0].shape
    return shape[2] if len(shape) == 4 else 1


def _crfs(model):
    """The CRF layers of the members, in order: crf, crf_1, ..., crf_10 (by length, then name)."""
    return sorted((layer for layer in model.layers if isinstance(layer, CRF)),
                  key=lambda layer: (len(layer.name), layer.name))


def build_run_model(options, encoders):
    """build_model for the run's (word lookup, char lookup) and tags."""
    word_lookup, char_lookup = encoders
    return build_model(options, word_lookup.vocabulary_size(), char_lookup.vocabulary_size(), len(options.tags))
