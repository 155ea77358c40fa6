"""Encoder-decoder translation with attention (dates to ISO 8601 by default)."""
