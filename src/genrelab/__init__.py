"""genrelab: a reproducible study of music genre classification with honest evaluation."""

__version__ = "0.1.0"
