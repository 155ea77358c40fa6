"""Many-to-one sentiment classification of texts (IMDB reviews by default)."""
