import sys, time, numpy as np
sys.path.insert(0, "/work/main")
import keras, tensorflow as tf
from keras import ops
from apps.sentiment.config import OPTIONS
from apps.sentiment.data import load_training_data
from datasets.text_classification import adapt_vectorizer, make_vectorizer, make_dataset
from layers.ngrams import HashedNgramBag
norm, order, lr, epochs, rate, maxlen = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
opts = dict(OPTIONS.defaults); opts["train_file"] = "/work/shared/data/imdb/train.jsonl.gz"
(tr, ytr), (va, yva), _ = load_training_data(opts)
vec = adapt_vectorizer(make_vectorizer(100000), tr)
kw = dict(vectorizer=vec, batch_size=64, max_length=maxlen, seed=0)
dtr = make_dataset(tr, ytr, shuffle=True, **kw); dva = make_dataset(va, yva, shuffle=False, **kw)
class Bag(HashedNgramBag):
    def call(self, ids, training=False):
        out = super().call(ids, training)
        if norm == "sqrt":
            rows, kept = self.ngram_ids(ids)
            out = out * ops.sqrt(ops.maximum(ops.sum(ops.cast(kept, "float32"), axis=(1, 2)), 1.0))[:, None]
        return out
ids = keras.Input((None,), dtype="int64")
y = keras.layers.Activation("sigmoid")(Bag(vec.vocabulary_size(), order=order, rate=rate)(ids))
m = keras.Model(ids, y); m.compile(keras.optimizers.Adam(lr), "binary_crossentropy", metrics=["accuracy"])
t0 = time.time(); h = m.fit(dtr, validation_data=dva, epochs=epochs, verbose=2)
print(sys.argv[1:], "val", [round(a, 4) for a in h.history["val_accuracy"]], round(time.time() - t0), "s")
