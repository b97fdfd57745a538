"""Tables written in Parquet shards as tracks finish, and read back from the shards or from one CSV.

A stage that makes one row (or ten) per track writes them a shard at a time, so a 100,000-track
run holds one shard's rows, not every row. The table is a folder of ``part-00000.parquet``,
``part-00001.parquet``, ... in row order; :func:`read_table` concatenates them, and reads a single
CSV (the public GTZAN tables' format) the same way, so either can feed the models.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from genrelab.errors import DataError

PART = "part-{:05d}.parquet"


class ShardWriter:
    """Writes a table under ``folder`` one shard at a time; stale shards of an earlier run are removed first."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        for stale in self.folder.glob("part-*.parquet"):
            stale.unlink()
        self.shards = 0
        self.rows = 0

    def write(self, rows: pd.DataFrame | pa.Table) -> None:
        """Append ``rows`` as the next shard (nothing for no rows)."""
        if len(rows) == 0:
            return
        _write(rows, self.folder / PART.format(self.shards))
        self.shards += 1
        self.rows += len(rows)

    def close(self, schema: pd.DataFrame | pa.Table) -> None:
        """End the table; with no rows written, one empty shard with ``schema``'s columns stands for it."""
        if not self.shards:
            _write(schema[:0] if isinstance(schema, pd.DataFrame) else schema.slice(0, 0), self.folder / PART.format(0))
            self.shards = 1


def _write(rows: pd.DataFrame | pa.Table, path: Path) -> None:
    if isinstance(rows, pd.DataFrame):
        rows.to_parquet(path, index=False)
    else:
        pq.write_table(rows, path)


def with_vectors(columns: dict[str, np.ndarray], vectors: dict[str, np.ndarray]) -> pa.Table:
    """A shard of per-row values plus, for each of ``vectors`` (float32 ``(n_rows, dim)``), a
    fixed-size-list column: one embedding a cell, read back by :func:`read_vectors`."""
    table = {name: pa.array(values) for name, values in columns.items()}
    for name, X in vectors.items():
        X = np.ascontiguousarray(X, dtype=np.float32)
        table[name] = pa.FixedSizeListArray.from_arrays(pa.array(X.reshape(-1)), X.shape[1])
    return pa.table(table)


def read_vectors(folder: str | Path, vector: str) -> tuple[np.ndarray, pd.DataFrame]:
    """One vector column of a sharded table as float32 ``(n_rows, dim)``, and its other scalar columns.

    Only that vector column is read from disk, besides the scalars. Raises :class:`DataError` when
    there are no shards or no such column.
    """
    parts = shard_paths(folder)
    if not parts:
        raise DataError(f"{folder}: no part-*.parquet shards. Rerun the stage that writes it.")
    schema = pq.read_schema(parts[0])
    if vector not in schema.names:
        raise DataError(f"{folder}: no column {vector!r} (has {', '.join(schema.names)}). Rerun the stage that writes it.")
    scalars = [f.name for f in schema if not pa.types.is_fixed_size_list(f.type)]
    table = pa.concat_tables([pq.read_table(part, columns=[*scalars, vector]) for part in parts])
    column = table.column(vector).combine_chunks()
    dim = schema.field(vector).type.list_size
    X = column.flatten().to_numpy(zero_copy_only=False).reshape(len(table), dim)
    return X, table.select(scalars).to_pandas()


def shard_paths(folder: str | Path) -> list[Path]:
    """The shards of a table, in row order."""
    return sorted(Path(folder).glob("part-*.parquet"))


def read_table(path: str | Path, columns: Sequence[str] | None = None, text: Sequence[str] = ()) -> pd.DataFrame:
    """One table from a folder of Parquet shards or from a CSV file, rows in order.

    ``columns``: read only these (Parquet reads no other bytes). ``text``: columns a CSV keeps as
    text (ids such as ``000002``, labels), with ``""`` for an empty cell. Raises :class:`DataError`
    naming the path when it holds neither.
    """
    path = Path(path)
    if path.is_dir():
        parts = shard_paths(path)
        if not parts:
            raise DataError(f"{path}: no part-*.parquet shards. Rerun the stage that writes it.")
        frames = [pd.read_parquet(part, columns=list(columns) if columns is not None else None) for part in parts]
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if path.is_file() and path.suffix.lower() == ".csv":
        table = pd.read_csv(path, dtype=dict.fromkeys(text, str), keep_default_na=False, usecols=columns)
        return table
    raise DataError(f"{path}: not found (expected a folder of Parquet shards or a .csv). Rerun the stage that writes it.")
