"""Exceptions that carry a message meant for the user: what went wrong, where, and the fix."""


class GenrelabError(Exception):
    """Base class: the CLI prints these as one clear line instead of a traceback."""


class AudioError(GenrelabError):
    """An audio file cannot be used (unreadable, corrupt, too short, ...). Names the file."""


class DataError(GenrelabError):
    """A dataset folder or metadata file is malformed or missing. Names the path."""
