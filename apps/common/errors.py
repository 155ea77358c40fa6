class UserError(Exception):
    """A mistake in what the user gave (an option, a run directory); printed as one line."""
