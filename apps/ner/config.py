"""Every option of the NER app and its default, in one place."""

APP = "ner"

DEFAULTS = {
    # data
    "dataset": "conll2003",       # tensorflow-datasets name, used when no --train-file is given
    "train_file": None,
    "valid_file": None,           # when absent, `valid_fraction` of train is carved off with the seed
    "valid_fraction": 0.1,
    "tag_column": -1,
    "token_prefix": "",           # e.g. "en:" for WikiANN
    "max_chars": 20,              # characters per word seen by the char CNN
    # model
    "cell": "lstm",
    "units": 128,
    "layers": 1,
    "word_dim": 100,
    "char_features": True,
    "char_dim": 30,
    "char_filters": 50,
    "output": "crf",              # or "softmax"
    "dropout": 0.5,
    "word_dropout": 0.05,
    # training
    "batch_size": 32,
    "learning_rate": 2e-3,
    "clipnorm": 5.0,
    "epochs": 20,
    "patience": 4,
    "reduce_lr_patience": 2,      # halve the learning rate after this many epochs without a better F1
    "seed": 0,
}

RESUMABLE = {"epochs", "patience"}
