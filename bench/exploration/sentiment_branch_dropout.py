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
class Ens(keras.layers.Layer):
    def __init__(self, **kw):
        super().__init__(**kw); self.sg = keras.random.SeedGenerator(0)
    def call(self, zs, training=False):
        z = ops.concatenate(zs, axis=-1)  # [B, K]
        k = len(zs)
        if training:
            choice = keras.random.randint((ops.shape(z)[0],), 0, k + 1, seed=self.sg)  # k: all
            alone = ops.one_hot(ops.minimum(choice, k - 1), k) * k
            weights = ops.where(ops.expand_dims(choice == k, -1), ops.ones_like(z), alone)
            return ops.sigmoid(ops.sum(z * weights, -1, keepdims=True))
        return ops.sigmoid(ops.sum(z, -1, keepdims=True))
ids = keras.Input((None,), dtype="int64")
x = keras.layers.Embedding(vec.vocabulary_size(), 128, mask_zero=True)(ids)
x = keras.layers.Dropout(0.3)(x)
x = keras.layers.Bidirectional(keras.layers.RNN(CELLS["gru"](units, seed=0), return_sequences=True))(x)
x = MaskedMaxMeanPooling()(x)
x = keras.layers.Dropout(0.3)(x)
z1 = keras.layers.Dense(1)(x)
z2 = HashedNgramBag(vec.vocabulary_size(), order=3, rate=0.5, scale=scale, seed=0)(ids)
p = Ens()([z1, z2])
m = keras.Model(ids, p); m.compile(keras.optimizers.Adam(1e-3, clipnorm=1.0), "binary_crossentropy", metrics=["accuracy"])
t0 = time.time(); h = m.fit(dtr, validation_data=dva, epochs=epochs, verbose=2)
print(sys.argv[1:], "val", [round(a, 4) for a in h.history["val_accuracy"]], round(time.time() - t0), "s")
