"""Every option of the music app and its default, in one place."""

APP = "music"

DEFAULTS = {
    # data
    "corpus": "oneills1850",      # music21's embedded collection, used when no --data-dir is given
    "data_dir": None,
    "limit": None,                # first N tunes only
    "valid_fraction": 0.1,        # of tunes: no tune is in both splits
    "transpositions": 3,          # training tunes also moved by -3..+3 semitones
    "window": 64,                 # events per training sequence
    # model
    "cell": "gru",
    "units": 256,
    "layers": 2,
    "embedding_dim": 64,
    "dropout": 0.2,
    # training
    "batch_size": 64,
    "learning_rate": 2e-3,
    "clipnorm": 1.0,
    "epochs": 6,                  # the main job in ~10 min on 2 cores (bench/results/main_job.md)
    "patience": 3,
    "seed": 0,
}

RESUMABLE = {"epochs", "patience"}

BENCHMARK_DEFAULTS = {"epochs": 100, "batch_size": 8, "learning_rate": 2e-3, "clipnorm": 1.0, "layers": 1,
                      "dropout": 0.0, "window": None, "patience": 10, "seed": 0,
                      "output_layer": "independent", "output_units": 128, "optimizer": "adam",
                      "weight_noise": 0.0}
