"""Every option of the sentiment app and its default, in one place."""

APP = "sentiment"

DEFAULTS = {
    # data
    "dataset": "imdb_reviews",   # tensorflow-datasets name, used when no --train-file is given
    "train_file": None,
    "valid_file": None,          # when absent, `valid_fraction` of train is carved off with the seed
    "valid_fraction": 0.1,
    "text_column": "text",
    "label_column": "label",
    "max_tokens": 30000,         # vocabulary size, padding and OOV included
    "max_length": 400,           # tokens kept from the start of each text
    # model
    "cell": "gru",
    "units": 128,
    "layers": 1,
    "bidirectional": True,
    "embedding_dim": 128,
    "dropout": 0.3,
    # training
    "batch_size": 64,
    "learning_rate": 1e-3,
    "clipnorm": 1.0,
    "epochs": 8,
    "patience": 2,
    "seed": 0,
}

# Options that may change when an interrupted run is continued.
RESUMABLE = {"epochs", "patience"}
