"""Named-entity recognition: many-to-many tagging of tokens."""
