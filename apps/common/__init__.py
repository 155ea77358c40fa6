"""What every app shares: run directories, training, export and the CLI contract."""
