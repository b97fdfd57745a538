"""The ``genrelab`` sub-commands, one module per group: parsers and handlers."""
