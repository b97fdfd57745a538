"""Exceptions that carry a message meant for the user: what went wrong, where, and the fix."""


class GenrelabError(Exception):
    """Base class: the CLI prints these as one clear line instead of a traceback."""


class AudioError(GenrelabError):
    """An audio file cannot be used (unreadable, corrupt, too short, ...). Names the file.

    ``kind`` is the problem kind of :mod:`genrelab.data.checks` it is reported as (``corrupt``,
    ``empty``, ``non_finite``, ``too_short``, ``unreadable``).
    """

    def __init__(self, message: str, kind: str = "corrupt"):
        super().__init__(message)
        self.kind = kind

    def __reduce__(self):  # keep ``kind`` across process boundaries (worker pools pickle errors)
        return type(self), (str(self), self.kind)


class DataError(GenrelabError):
    """A dataset folder or metadata file is malformed or missing. Names the path."""
