"""Every option of the translation app and its default, in one place."""

APP = "translation"

DEFAULTS = {
    # data
    "dataset": "dates",           # generated offline; or a tensorflow-datasets translation set
    "train_file": None,
    "valid_file": None,
    "valid_fraction": 0.05,
    "source_column": 0,
    "target_column": 1,
    "train_size": 50000,          # generated dates
    "level": None,                # char or word; default: char for dates, word otherwise
    "target_case": "keep",        # keep: translations come out cased; sources are always lower-cased
    "max_tokens": 20000,
    "max_length": 40,
    # model
    "cell": "gru",
    "units": 128,
    "embedding_dim": 64,
    "attention": "additive",      # or multiplicative
    "output_dim": None,           # attentional vector before the softmax; default 2 * units. Smaller is
                                  # much faster with a large target vocabulary: the softmax dominates.
    "dropout": 0.1,
    # training
    "batch_size": 64,
    "learning_rate": 2e-3,
    "clipnorm": 1.0,
    "epochs": 10,
    "patience": 3,
    "seed": 0,
}

RESUMABLE = {"epochs", "patience"}
