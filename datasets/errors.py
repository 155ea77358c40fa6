class DataError(ValueError):
    """Bad user data. The message names the file, and the line where one is at fault.

    The CLIs print it as one line and exit non-zero; nothing is half-written.
    """

    def __init__(self, path, message, line=None):
        self.path, self.line = str(path), line
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")
