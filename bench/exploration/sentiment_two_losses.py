import sys, time, numpy as np
sys.path.insert(0, "/work/main")
import keras, tensorflow as tf
from keras import ops
from apps.sentiment.config import OPTIONS
from apps.sentiment.data import load_training_data
from datasets.text_classification import adapt_vectorizer, make_vectorizer, make_dataset
from layers import HashedNgramBag, CELLS, MaskedMaxMeanPooling
scale, epochs, maxlen, max_tokens, units = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
opts = dict(OPTIONS.defaults); opts["train_file"] = "/work/shared/data/imdb/train.jsonl.gz"
(tr, ytr), (va, yva), _ = load_training_data(opts)
vec = adapt_vectorizer(make_vectorizer(max_tokens), tr)
kw = dict(vectorizer=vec, batch_size=64, max_length=maxlen, seed=0)
dtr = make_dataset(tr, ytr, shuffle=True, **kw); dva = make_dataset(va, yva, shuffle=False, **kw)
ids = keras.Input((None,), dtype="int64")
x = keras.layers.Embedding(vec.vocabulary_size(), 128, mask_zero=True)(ids)
x = keras.layers.Dropout(0.3)(x)
x = keras.layers.Bidirectional(keras.layers.RNN(CELLS["gru"](units, seed=0), return_sequences=True))(x)
x = MaskedMaxMeanPooling()(x)
x = keras.layers.Dropout(0.3)(x)
z1 = keras.layers.Dense(1)(x)
z2 = HashedNgramBag(vec.vocabulary_size(), order=3, rate=0.5, scale=scale, seed=0)(ids)
z = keras.layers.Concatenate()([z1, z2])
def loss(y, z):
    y = ops.cast(ops.reshape(y, (-1, 1)), "float32") * ops.ones_like(z)
    return ops.mean(ops.binary_crossentropy(y, z, from_logits=True), axis=-1)
def acc_of(i):
    def f(y, z):
        zz = ops.mean(z, axis=-1) if i is None else z[:, i]
        return ops.cast(ops.equal(ops.cast(zz > 0, "float32"), ops.reshape(ops.cast(y, "float32"), (-1,))), "float32")
    f.__name__ = {None: "ens", 0: "rnn", 1: "bag"}[i]; return f
m = keras.Model(ids, z); m.compile(keras.optimizers.Adam(1e-3, clipnorm=1.0), loss, metrics=[acc_of(None), acc_of(0), acc_of(1)])
t0 = time.time(); h = m.fit(dtr, validation_data=dva, epochs=epochs, verbose=2)
print(sys.argv[1:], "val ens", [round(a, 4) for a in h.history["val_ens"]], round(time.time() - t0), "s")
