"""The quality chapter's views: where each setting's cut-off falls, the scores, and Spek's picture
with the answer drawn on it (also what ``genrelab quality --plot`` writes)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from genrelab.quality.check import QualityReport
from genrelab.quality.conditions import LAME_LOWPASS_KHZ, QUALITY_ORDER


def plot_cutoffs(table: pd.DataFrame, excerpt_seconds: float) -> plt.Figure:
    """Measured cut-off (kHz) of every excerpt of one length, by effective setting, with LAME's table marked."""
    rows = table[table["excerpt_seconds"] == excerpt_seconds]
    order = [s for s in QUALITY_ORDER if s in set(rows["effective"])]
    fig, ax = plt.subplots(figsize=(8, 3.6))
    rng = np.random.default_rng(0)
    for k, setting in enumerate(order):
        part = rows[rows["effective"] == setting]
        ax.scatter(k + rng.uniform(-0.25, 0.25, len(part)), part["cutoff_hz"] / 1000, s=8, alpha=0.6,
                   c=np.where(part["nominal"] == setting, "#4c72b0", "#c44e52"))  # fmt: skip
        if setting in LAME_LOWPASS_KHZ:
            ax.hlines(LAME_LOWPASS_KHZ[setting], k - 0.4, k + 0.4, colors="k", linewidth=1)
    ax.set_xticks(range(len(order)), order, rotation=45)
    ax.set_ylabel("measured cut-off (kHz)")
    ax.set_xlabel("effective setting (blue: as claimed; red: transcoded)")
    fig.tight_layout()
    return fig


def score_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Models as rows, (target, excerpt length) as columns: macro-F1 (%) with its 95 % interval."""
    cells = scores.assign(cell=[f"{100 * f:.0f} ({100 * lo:.0f}–{100 * hi:.0f})"
                                for f, lo, hi in zip(scores["macro_f1"], scores["macro_f1_low"], scores["macro_f1_high"])])  # fmt: skip
    pivot = cells.pivot_table(index="model", columns=["target", "excerpt_seconds"], values="cell", aggfunc="first")
    return pivot.rename(columns=lambda c: f"{c:g} s" if isinstance(c, float) else c)


def plot_spectrogram(y: np.ndarray, sr: int, title: str, cutoff_hz: float | None, verdict: str = "") -> plt.Figure:
    """A Spek-like picture (time x frequency, dB) of ``y`` with the measured cut-off drawn and the verdict written."""
    from genrelab.quality import spectral

    spec = spectral.spectrum(y, sr)
    fig, ax = plt.subplots(figsize=(8, 3.8))
    seconds = np.arange(spec.mid.shape[0]) * spectral.HOP / sr
    ax.pcolormesh(seconds, spec.freqs / 1000, spec.mid.T, shading="auto", cmap="magma", vmin=-100, vmax=10)
    if cutoff_hz is not None and cutoff_hz < sr / 2 - 50:
        ax.axhline(cutoff_hz / 1000, color="#55a868", linewidth=1.5, linestyle="--")
        ax.text(seconds[-1], cutoff_hz / 1000, f" cut-off {cutoff_hz / 1000:.1f} kHz", color="#55a868",
                va="bottom", ha="right", fontsize=9)  # fmt: skip
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (kHz)")
    ax.set_title(f"{title}\n{verdict}" if verdict else title, fontsize=9)
    fig.tight_layout()
    return fig


def plot_report(report: QualityReport, out_dir: str | Path, name: str) -> Path:
    """Spek's picture of the report's middle excerpt with the cut-off and the verdict on it: ``out_dir/name.png``."""
    from genrelab.quality.excerpts import read_excerpt

    offset, seconds = report.excerpts[len(report.excerpts) // 2]
    y, sr = read_excerpt(report.path, offset, seconds)
    confidence = "" if report.confidence is None else f" ({report.confidence:.0%})"
    fig = plot_spectrogram(y, sr, f"{Path(report.path).name}: {report.header.claim}",
                           report.bandwidth_hz if report.has_cutoff else None, report.detail + confidence)  # fmt: skip
    out = Path(out_dir) / f"{name}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def generalisation_table(general: pd.DataFrame) -> pd.DataFrame:
    """The generalisation tests as the chapter shows them: the share (%) with its 95 % interval."""
    cells = _cells(general["value"], general["low"], general["high"])
    return pd.DataFrame({"test": general["test"], "condition": general["condition"], "files": general["files"],
                         "measure": general["measure"], "% (95 % CI)": cells,
                         "median cut-off (kHz)": general["cutoff_khz"].round(1)}).set_index(["test", "condition"])  # fmt: skip


def plot_generalisation(general: pd.DataFrame) -> plt.Figure:
    """Each generalisation test's share (%) with its interval over sources; the reference in grey."""
    labels = [f"{t}: {c}" if c else t for t, c in zip(general["test"], general["condition"])]
    y = np.arange(len(general))[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(general) + 1.2))
    colours = ["#8c8c8c" if "reference" in t else "#4c72b0" for t in general["test"]]
    ax.barh(y, 100 * general["value"], color=colours)
    ax.errorbar(100 * general["value"], y, xerr=[100 * (general["value"] - general["low"]),
                                                 100 * (general["high"] - general["value"])],
                fmt="none", ecolor="k", capsize=2, linewidth=1)  # fmt: skip
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("right collision group, or fake caught (%)")
    fig.tight_layout()
    return fig


def _cells(value, low, high) -> list[str]:
    return [f"{100 * v:.0f} ({100 * lo:.0f}–{100 * hi:.0f})" for v, lo, hi in zip(value, low, high)]


def selection_table(selection: pd.DataFrame) -> pd.DataFrame:
    """The feature models' cross-validated group macro-F1 (%) on the training sources, ± its spread over folds."""
    return pd.DataFrame({"model": selection["model"],
                         "CV macro-F1 (%) ± sd over folds": [f"{100 * m:.1f} ± {100 * s:.1f}"
                                                            for m, s in zip(selection["cv_macro_f1"], selection["cv_std"])],
                         "folds": selection["cv_folds"],
                         "chosen": selection["selected"].map({True: "yes", False: ""})}).set_index("model")  # fmt: skip


def command_table(command: pd.DataFrame) -> pd.DataFrame:
    """The command's measures on held-out files: counts, and the share (%) with its 95 % interval over sources."""
    return pd.DataFrame({"measure": command["measure"], "of": command["of"],
                         "count": [f"{h} / {n}" for h, n in zip(command["hits"], command["rows"])],
                         "sources": command["sources"],
                         "% (95 % CI over sources)": _cells(command["value"], command["low"], command["high"])}
                        ).set_index("measure")  # fmt: skip


def verdict_table(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Fake lossless caught and genuine files accused per model and excerpt length: counts, and the
    share (%) with its 95 % interval over sources."""
    return pd.DataFrame({
        "model": verdicts["model"], "excerpt (s)": verdicts["excerpt_seconds"],
        "fakes caught": [f"{c} / {n}" for c, n in zip(verdicts["fakes_caught"], verdicts["fakes"])],
        "% (95 % CI)": _cells(verdicts["fake_detection"], verdicts["fake_detection_low"], verdicts["fake_detection_high"]),
        "genuine accused": [f"{a} / {n}" for a, n in zip(verdicts["genuine_accused"], verdicts["genuine"])],
        "% (95 % CI) ": _cells(verdicts["false_positive_rate"], verdicts["false_positive_low"],
                               verdicts["false_positive_high"]),
    }).set_index(["model", "excerpt (s)"])  # fmt: skip


def styles_table(styles: pd.DataFrame) -> pd.DataFrame:
    """Each left-out style's share (%) of right collision groups with its 95 % interval over sources."""
    return styles.assign(**{"% right (95 % CI)": _cells(styles["value"], styles["low"], styles["high"])})[
        ["style", "files", "sources", "% right (95 % CI)"]].set_index("style")  # fmt: skip


def quality_finding(shipped: str, selection: pd.DataFrame, command: pd.DataFrame) -> str:
    """The quality model chosen by cross-validation, and what the command gets right on held-out sources.

    ``selection``: ``model, cv_macro_f1, cv_std, cv_folds``; ``command``: ``measure, hits, rows, sources``.
    """
    chosen = selection.set_index("model").loc[shipped]
    by = command.set_index("measure")

    def share(measure: str) -> str:
        row = by.loc[measure]
        return f"{int(row['hits'])} of {int(row['rows'])}"

    sources = int(by["sources"].iloc[0])
    return (f"**Cross-validation over the training sources chose `{shipped}`** "
            f"({100 * chosen['cv_macro_f1']:.1f} % collision-group macro-F1 over {int(chosen['cv_folds'])} folds). "
            f"On {sources} held-out sources, `genrelab quality` gives the right verdict for {share('right verdict')} "
            f"files, catches {share('fake lossless caught')} fake lossless files and accuses "
            f"{share('genuine accused')} genuine ones.")
