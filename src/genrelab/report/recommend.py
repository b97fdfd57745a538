"""The recommender chapter's pieces: the precision@k figure, worked examples, audio players."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


def plot_precision(table: pd.DataFrame, title: str = "") -> plt.Figure:
    """Genre precision@k per query set, without and with the artist filter, with 95 % intervals."""
    sets = list(dict.fromkeys(table["queries"]))
    fig, ax = plt.subplots(figsize=(7, 0.8 + 0.6 * len(sets)))
    for shift, (flag, colour) in zip((-0.2, 0.2), ((False, "#dd8452"), (True, "#4c72b0"))):
        rows = table[table["artist_filter"] == flag].set_index("queries").reindex(sets)
        y = np.arange(len(sets)) + shift
        values = rows["precision"].to_numpy() * 100
        errors = np.abs(np.vstack([rows["ci_low"], rows["ci_high"]]) * 100 - values)
        ax.barh(y, values, height=0.38, color=colour, xerr=errors, capsize=3,
                label="artist filter" if flag else "no filter")  # fmt: skip
    ax.set_yticks(np.arange(len(sets)), sets)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel(f"genre precision@{int(table['k'].iloc[0])} (%)")
    ax.set_title(title)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def precision_pivot(table: pd.DataFrame) -> pd.DataFrame:
    """Precision (%) per query set, without and with the filter, and the drop."""
    wide = table.pivot_table(index="queries", columns="artist_filter", values="precision", sort=False) * 100
    wide.columns = ["no filter", "artist filter"]
    return wide.assign(drop=wide["no filter"] - wide["artist filter"]).round(1)


def example_queries(index, splits: pd.DataFrame, protocol: str, n: int) -> list[int]:
    """``n`` test tracks of ``protocol`` in distinct genres (the first test track of each genre, in order)."""
    tracks = index.tracks
    subset = splits.set_index("track_id")[protocol].reindex(tracks["track_id"]).to_numpy(dtype=object)
    test = tracks[subset == "test"]
    return test.groupby("genre", sort=True).head(1).index[:n].tolist()


def audio_player(path: str | Path, seconds: float, offset: float = 10.0) -> str:
    """An HTML ``<audio>`` player holding ``seconds`` of ``path`` from ``offset`` s (or its start when
    shorter) as an embedded MP3, so the book plays it with no file beside it."""
    import soundfile as sf

    from genrelab.data import audio

    y, sr = audio.load(path, sr=audio.DEFAULT_SR)
    start = int(offset * sr) if len(y) > (offset + seconds) * sr else 0
    buffer = io.BytesIO()
    sf.write(buffer, y[start : start + int(seconds * sr)], sr, format="MP3", subtype="MPEG_LAYER_III")  # float32, not int16
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<audio controls preload="none" src="data:audio/mpeg;base64,{data}"></audio>'


def example_html(index, position: int, k: int, seconds: float) -> str:
    """One worked example: the query and its ``k`` neighbours with and without the artist filter,
    each with a player."""
    root = Path(index.root)
    query = index.tracks.iloc[position]

    def rows(found: pd.DataFrame) -> str:
        return "".join(
            f"<tr><td>{html.escape(r.track_id)}</td><td>{html.escape(r.genre)}</td><td>{html.escape(r.artist)}</td>"
            f"<td>{r.distance:.2f}</td><td>{audio_player(root / r.path, seconds)}</td></tr>" for r in found.itertuples()
        )  # fmt: skip

    head = "<tr><th>track</th><th>genre</th><th>artist</th><th>distance</th><th>listen</th></tr>"
    itself = np.arange(len(index.tracks)) == position
    plain = index.query(index.vectors[position], k, itself)
    filtered = index.query(index.vectors[position], k, index.corpus_exclusions(position))
    return (f"<p><b>{html.escape(query['track_id'])}</b> ({html.escape(query['genre'])}, {html.escape(query['artist'])}) "
            f"{audio_player(root / query['path'], seconds)}</p>"
            f"<table><caption>without the artist filter</caption>{head}{rows(plain)}</table>"
            f"<table><caption>with the artist filter</caption>{head}{rows(filtered)}</table>")  # fmt: skip


def recommend_finding(card: dict, precision: pd.DataFrame, k: int) -> str:
    """The shipped model and how often the recommender's neighbours share the query's genre.

    ``precision``: the recommend stage's table (``queries, artist_filter, precision``).
    """
    test = card["test"]
    filtered = precision[precision["queries"].str.startswith("all") & precision["artist_filter"].astype(bool)]
    neighbours = (f" Among a query's {k} nearest neighbours from other artists, {filtered['precision'].iloc[0]:.0%} "
                  "share its genre." if len(filtered) else "")
    return (f"**The shipped model is {card['approach']} / {card['model']}**, chosen under `{card['protocol']}` by "
            f"its selection score inside the training data; that protocol's {test['n_test']} test tracks then scored "
            f"it once: {test['accuracy']:.1%} (95 % CI {test['ci_low']:.1%} to {test['ci_high']:.1%}). "
            f"It knows {len(card['classes'])} genres.{neighbours}")
