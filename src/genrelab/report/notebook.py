"""What every chapter notebook sets up before it shows anything.

pandas cuts long cells, wide tables and long tables with "..." by default; a report must show
what it claims, so nothing is cut here, and each chapter chooses the columns it shows instead.
"""

from __future__ import annotations

import pandas as pd

DISPLAY_OPTIONS = {
    "display.max_colwidth": None,  # no cell cut to "..."
    "display.max_columns": None,  # no column cut: a chapter shows fewer columns instead
    "display.max_rows": None,  # no row cut: long tables go in a collapsed cell
    "display.precision": 3,
}


def setup() -> None:
    """Set :data:`DISPLAY_OPTIONS` for the running notebook."""
    for key, value in DISPLAY_OPTIONS.items():
        pd.set_option(key, value)
