"""The README's numbers, rendered from ``results/`` and ``metrics/`` so that its prose cannot drift.

README.md marks each generated block with ``<!-- results:NAME -->`` ... ``<!-- /results:NAME -->``;
:func:`update` replaces what lies between with the block :data:`BLOCKS` renders from the files.
``python -m genrelab.report.readme`` rewrites README.md (``make readme``); ``--check`` rewrites
nothing, prints a diff and exits 1 when README.md disagrees with the files.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from genrelab.errors import DataError

# Protocols from the leakiest to the most honest; table columns follow this order.
PROTOCOL_HEADERS = {"random_segment": "random split", "track_grouped": "track-grouped",
                    "artist_grouped": "artist-grouped", "fault_filtered": "fault-filtered"}  # fmt: skip
# How the quality models and their inputs read in prose; a model missing here shows its own name.
QUALITY_LABELS = {"lightgbm": "LightGBM", "svm_rbf": "SVM (RBF)", "cnn": "small CNN",
                  "cnn_freqmask": "small CNN, frequency masking", "rule": "LAME-table rule",
                  "pixels_logreg_l2": "logistic regression (pixels baseline)"}  # fmt: skip
QUALITY_INPUTS = {"features": "quality features", "band": "11–22 kHz log spectrogram", "spek": "Spek-like picture"}
WIDTH = 100  # the README's line length; table rows stay whole
MARKER = re.compile(r"<!-- results:(?P<name>[a-z_]+) -->\n(?P<body>.*?)<!-- /results:(?P=name) -->", re.S)
# Blocks read from what a root may lack (DVC-cached outputs, which git does not hold; the DVC project
# itself): where it is absent a block keeps the text rendered where it was present rather than the note.
CACHED = {"card": "models/predict/card.json", "gtzan_card": "models/predict_gtzan/card.json",
          "stage_times": "results/stage_times.json",  # written by `make repro` only, not by a stage
          "metrics_show": ".dvc/config"}  # fmt: skip


def _read_csv(root: Path, rel: str, columns: list[str]) -> pd.DataFrame:
    """The table ``root/rel`` with at least ``columns``; a missing file or column is a ``DataError``."""
    path = root / rel
    if not path.exists():
        raise DataError(f"`{rel}` is missing")
    table = pd.read_csv(path, keep_default_na=False)
    absent = [c for c in columns if c not in table.columns]
    if absent:
        raise DataError(f"`{rel}` lacks the column(s) {', '.join(absent)}")
    return table


def _read_json(root: Path, rel: str, keys: list[str]) -> dict:
    """The JSON object ``root/rel`` with at least ``keys``; a missing file or key is a ``DataError``."""
    path = root / rel
    if not path.exists():
        raise DataError(f"`{rel}` is missing")
    data = json.loads(path.read_text())
    absent = [k for k in keys if k not in data]
    if absent:
        raise DataError(f"`{rel}` lacks the key(s) {', '.join(absent)}")
    return data


def _pct(x: float, digits: int = 1) -> str:
    """A fraction as a percentage string, ``digits`` decimals."""
    return f"{100 * float(x):.{digits}f}"


def _public_table(root: Path) -> pd.DataFrame:
    """Clip accuracy (%, one decimal, as the table shows it) of results/public_gtzan_30s.csv: model x protocol."""
    rows = _read_csv(root, "results/public_gtzan_30s.csv", ["model", "protocol", "accuracy", "ci_low", "ci_high"])
    table = rows.pivot(index="model", columns="protocol", values="accuracy")
    table = table[[p for p in PROTOCOL_HEADERS if p in table.columns]]
    # Ranked by the most honest column present, best first; names break ties so reruns agree.
    table = table.reset_index().sort_values([table.columns[-1], "model"], ascending=[False, True]).set_index("model")
    return (100 * table).round(1)


def public_gtzan(root: Path) -> str:
    """The full-GTZAN table: test accuracy per model and protocol, with the median CI half-width."""
    rows = _read_csv(root, "results/public_gtzan_30s.csv", ["protocol", "ci_low", "ci_high", "n_test"])
    table = _public_table(root)
    half = 100 * ((rows["ci_high"] - rows["ci_low"]) / 2).median()
    n_test = rows.groupby("protocol")["n_test"].first()
    lines = [f"Test accuracy (%), clip level, same models and test tracks per protocol "
             f"({' / '.join(str(n_test[p]) for p in table.columns)} test clips); the 95 % intervals' median "
             f"half-width is {half:.1f} points:", "",
             "| model | " + " | ".join(PROTOCOL_HEADERS[p] for p in table.columns) + " |",
             "| --- |" + " --- |" * len(table.columns)]  # fmt: skip
    lines += [f"| {model} | " + " | ".join(f"{v:.1f}" for v in row) + " |" for model, row in table.iterrows()]
    return "\n".join(lines)


def leakage(root: Path) -> str:
    """How many points each model loses from the random split to artist-grouped, as a range."""
    table = _public_table(root).drop(index="dummy", errors="ignore")
    drops = (table["random_segment"] - table["artist_grouped"]).round(1).sort_values(kind="stable")
    low, high = drops.index[0], drops.index[-1]
    return (f"Between {drops[low]:.1f} ({low}) and {drops[high]:.1f} points ({high}) vanish as soon as the test "
            "artists are unseen (random split against artist-grouped, every model but dummy).")  # fmt: skip


def demo_segments(root: Path) -> str:
    """The demo corpus's segment-level gap, from the audio-feature rows of results/scores.csv."""
    rows = _read_csv(root, "results/scores.csv", ["approach", "model", "protocol", "level", "accuracy"])
    rows = rows[(rows["approach"] == "audio_features") & (rows["level"] == "segment") & (rows["model"] != "dummy")]
    by = rows.pivot(index="model", columns="protocol", values="accuracy")

    def span(protocol: str) -> str:
        acc = by[protocol].sort_values(kind="stable")
        low, high = acc.index[0], acc.index[-1]
        return f"{_pct(acc[low], 0)}–{_pct(acc[high], 0)} % under `{protocol}` ({low} to {high})"

    return (f"On the demo corpus the same gap shows per 3 s segment (audio features, every model but dummy): "
            f"{span('random_segment')}, {span('artist_grouped')}; chapter 3 of the book has every model.")  # fmt: skip


def quality(root: Path) -> str:
    """The quality study's paragraph, table and findings for the shipped model.

    Reads only the columns listed below, so new columns (or new files) of the quality stage leave it working.
    """
    data = _read_json(root, "results/stages/quality_data.json", ["sources", "conditions", "held_out"])
    q = _read_json(root, "results/stages/quality.json", ["shipped", "selection"])
    ship, chosen = q["shipped"], q["selection"]
    command = _read_csv(root, "results/quality_command.csv", ["measure", "hits", "rows", "sources", "value", "low",
                                                               "high"]).set_index("measure")  # fmt: skip
    scores = _read_csv(root, "results/quality_scores.csv", ["target", "model", "input", "excerpt_seconds",
                                                            "macro_f1", "macro_f1_low", "macro_f1_high"])  # fmt: skip
    verdicts = _read_csv(root, "results/quality_verdicts.csv", ["model", "excerpt_seconds", "fakes", "fakes_caught",
                                                                "genuine", "genuine_accused"])  # fmt: skip
    general = _read_csv(root, "results/quality_generalisation.csv", ["test", "condition", "files", "measure", "value"])
    styles = _read_csv(root, "results/quality_styles.csv", ["style", "value"])
    lengths = sorted(scores["excerpt_seconds"].unique())
    pooled = styles["style"].str.startswith("all")  # the row that pools every style

    def cell(row: pd.Series) -> str:
        return f"{_pct(row['macro_f1'])} ({_pct(row['macro_f1_low'], 0)}–{_pct(row['macro_f1_high'], 0)})"

    group = scores[scores["target"] == "group"]
    wide = group.pivot(index=["model", "input"], columns="excerpt_seconds", values="macro_f1")
    lines = [f"**Is it really 320 kbps?** (chapter 9: {data['sources']} synthetic 44.1 kHz sources, "
             f"{data['sources'] // (~pooled).sum()} a style, each through {data['conditions']} conditions: "
             f"genuine lossless, LAME CBR and VBR, and transcoding chains; {data['held_out']} sources held out with every file made "
             "from them). The cut-off is measured as an edge, which survives the dither a fake FLAC adds above it. "
             "Collision-group macro-F1 (%) on the held-out sources, "
             f"{' / '.join(f'{s:g} s' for s in lengths)} excerpts (95 % intervals over sources):", "",
             "| model | input | " + " | ".join(f"{s:g} s" for s in lengths) + " |",
             "| --- | --- |" + " --- |" * len(lengths)]  # fmt: skip
    for model, inp in wide.sort_values(lengths[0], ascending=False, kind="stable").index:
        name = QUALITY_LABELS.get(model, model) + (" (shipped to `genrelab quality`)" if model == ship else "")
        shown = "the cut-off" if model == "rule" else QUALITY_INPUTS.get(inp, inp)
        cells = [cell(group[(group["model"] == model) & (group["excerpt_seconds"] == s)].iloc[0]) for s in lengths]
        lines.append(f"| {name} | {shown} | " + " | ".join(cells) + " |")

    label = QUALITY_LABELS.get(ship, ship)
    raw = scores[(scores["target"] == "effective") & (scores["model"] == ship)].sort_values("excerpt_seconds")
    first = verdicts[verdicts["excerpt_seconds"] == lengths[0]].set_index("model")
    mine = {k: int(v) for k, v in first.loc[ship, ["fakes", "fakes_caught", "genuine", "genuine_accused"]].items()}
    rule_accused = int(first.loc["rule", "genuine_accused"])
    caught = "all" if mine["fakes_caught"] == mine["fakes"] else f"{mine['fakes_caught']} of the"
    accused = "none" if mine["genuine_accused"] == 0 else str(mine["genuine_accused"])
    cv = chosen["cv_macro_f1"]
    others = ", ".join(f"{QUALITY_LABELS.get(k, k)} {_pct(v)} %" for k, v in cv.items() if k != ship)

    def share(measure: str) -> str:  # a share of files, its exact 95 % interval over sources (one-sided if perfect)
        r = command.loc[measure]
        return (f"{int(r['hits'])} of {int(r['rows'])} ({_pct(r['value'], 0)} %, {_pct(r['low'], 0)}–"
                f"{_pct(r['high'], 0)} % over {int(r['sources'])} sources)")
    beyond = general[(general["measure"] == "right collision group") & ~general["test"].str.contains("reference")]
    worst = styles[~pooled].sort_values("value", kind="stable").iloc[0]
    unseen = general[general["test"].str.startswith("unseen encoder")]

    def found(part: pd.DataFrame) -> str:
        hits = (part["value"] * part["files"]).round().astype(int)
        every = part["condition"][hits == part["files"]]
        some = [f"{h} of {n} `{c}`" for c, h, n in zip(part["condition"], hits, part["files"]) if h < n]
        return ", ".join(([f"every {', '.join(f'`{c}`' for c in every)} file"] if len(every) else []) + some)

    lines += ["", f"{label} was chosen before any held-out file was scored: the best group macro-F1 in "
              f"{chosen['cv_folds']}-fold cross-validation grouped by source over the training sources "
              f"({_pct(cv[ship])} %; {others}). The raw settings, which collide, reach "
              f"{' / '.join(_pct(v) for v in raw['macro_f1'])} % ({label}). Per excerpt, it caught {caught} "
              f"{mine['fakes']} held-out fake lossless excerpts (LAME at 256 kbps or less, or V2 or lower) and accused "
              f"{accused} of the {mine['genuine']} genuine ones (the rule accused {rule_accused}). The command as a "
              f"whole (three excerpts, the header's claim, the `undecidable` gates), fitted on the training sources only, "
              f"gives the right verdict for {share('right verdict')} held-out files; it catches "
              f"{share('fake lossless caught')} fakes, accuses {share('genuine accused')} genuine files and leaves "
              f"{share('undecidable')} undecided. Beyond what it learned (chapter 9 has the table): "
              + "; ".join(f"{r['test']}: {_pct(r['value'], 0)} %" for _, r in beyond.iterrows())
              + f"; each style left out: {_pct(styles[pooled]['value'].iloc[0], 0)} % pooled ({worst['style']} lowest, "
              f"{_pct(worst['value'], 0)} %). Of the encoders it never learned, it calls "
              + "; ".join(f"{measure.removeprefix('called ')} {found(part)}"
                          for measure, part in unseen.groupby("measure", sort=False)) + "."]  # fmt: skip
    return "\n".join(lines)


def shipped(root: Path) -> str:
    """The genre model the committed run ships, from the export stage's metrics."""
    keys = ["approach", "model", "protocol", "accuracy", "ci_low", "ci_high"]
    m = _read_json(root, "results/stages/export.json", keys)
    return (f"In the committed run that is `{m['approach']}` / `{m['model']}` ({_pct(m['accuracy'], 0)} % track "
            f"accuracy under `{m['protocol']}`, CI {_pct(m['ci_low'], 0)}–{_pct(m['ci_high'], 0)} %).")


def card(root: Path) -> str:
    """One line quoting models/predict/card.json: the shipped model, its test accuracy and how it was chosen."""
    c = _read_json(root, "models/predict/card.json", ["approach", "model", "protocol", "selected_by", "test"])
    test = c["test"]
    return (f"`models/predict/card.json` ships `{c['approach']}` / `{c['model']}`: {_pct(test['accuracy'])} % test "
            f"accuracy under `{c['protocol']}` (95 % CI {_pct(test['ci_low'])}–{_pct(test['ci_high'])} %, "
            f"{test['n_test']} tracks); selected by: {c['selected_by']}.")  # fmt: skip


def gtzan_card(root: Path) -> str:
    """One line quoting models/predict_gtzan/card.json: the GTZAN model, its fault-filtered test accuracy, its choice."""
    c = _read_json(root, "models/predict_gtzan/card.json", ["model", "protocol", "selection", "trained_on_tracks",
                                                             "test", "classes"])  # fmt: skip
    test = c["test"]
    return (f"`models/predict_gtzan/card.json` ships `{c['model']}` for GTZAN's {len(c['classes'])} genres: "
            f"{_pct(test['accuracy'])} % accuracy on the {test['n_test']} test clips of the `{c['protocol']}` split "
            f"(95 % CI {_pct(test['ci_low'])}–{_pct(test['ci_high'])} %), chosen by its accuracy on the split's valid "
            f"clips alone ({_pct(c['selection']['score'])} %, fitted on its train clips); shipped as fitted on the "
            f"{c['trained_on_tracks']} train and valid clips.")  # fmt: skip


def stage_times(root: Path) -> str:
    """The last ``make repro``'s time, stage by stage, from results/stage_times.json."""
    times = _read_json(root, "results/stage_times.json", ["stages", "total_seconds", "cores", "started", "skipped"])

    def span(seconds: float) -> str:
        return f"{seconds:.0f} s" if seconds < 60 else f"{seconds / 60:.1f} min"

    rows = [f"| `{name}` | {span(s)} |" for name, s in times["stages"].items()]
    skipped = f"; {len(times['skipped'])} stage(s) unchanged and skipped" if times["skipped"] else ""
    return (f"The last `make repro` ({times['started']}, {times['cores']} cores{skipped}) ran `dvc repro` in "
            f"**{span(times['total_seconds'])}**, by stage (`results/stage_times.json`):\n\n"
            "| stage | time |\n| --- | --- |\n" + "\n".join(rows) + "\n")


def metrics_show(root: Path) -> str:
    """``dvc metrics show`` on the committed run, as the command prints it (the venv's dvc, beside this Python)."""
    dvc = Path(sys.executable).with_name("dvc")
    if not dvc.exists():
        raise DataError(f"`{dvc}` is missing (make setup)")
    shown = subprocess.run([str(dvc), "metrics", "show"], cwd=root, capture_output=True, text=True,
                           env={**os.environ, "DVC_NO_ANALYTICS": "1"})  # fmt: skip
    if shown.returncode:
        raise DataError(f"`dvc metrics show` failed: {shown.stderr.strip()}")
    return f"```text\n$ dvc metrics show\n{shown.stdout.rstrip()}\n```\n"


BLOCKS: dict[str, Callable[[Path], str]] = {"stage_times": stage_times, "metrics_show": metrics_show, "public_gtzan": public_gtzan, "leakage": leakage,
                                            "demo_segments": demo_segments, "quality": quality,
                                            "shipped": shipped, "card": card, "gtzan_card": gtzan_card}  # fmt: skip


def render(name: str, root: Path) -> str:
    """Block ``name`` as Markdown, prose wrapped; a missing source file gives a one-line note instead."""
    try:
        text = BLOCKS[name](Path(root))
    except DataError as error:
        return f"_({error}: run `make repro`, then `make readme`.)_"
    lines, fenced = [], False
    for line in text.split("\n"):
        fenced ^= line.startswith("```")
        whole = fenced or line.startswith(("|", "```"))  # table rows and code stay as they are
        lines.append(line if whole else textwrap.fill(line, WIDTH, break_long_words=False, break_on_hyphens=False))
    return "\n".join(lines)


def update(readme_text: str, root: Path | str = ".") -> str:
    """``readme_text`` with every marked block re-rendered from the files under ``root``.

    A :data:`CACHED` block whose file is absent is left as it is (or gets the note when empty).
    """
    unknown = sorted({m["name"] for m in MARKER.finditer(readme_text)} - set(BLOCKS))
    if unknown:
        raise DataError(f"README.md marks unknown block(s) {', '.join(unknown)}; known: {', '.join(BLOCKS)}")

    def fresh(match: re.Match) -> str:
        name = match["name"]
        if name in CACHED and not (Path(root) / CACHED[name]).exists() and match["body"].strip():
            return match[0]
        return f"<!-- results:{name} -->\n{render(name, Path(root))}\n<!-- /results:{name} -->"

    return MARKER.sub(fresh, readme_text)


def stale(readme_text: str, root: Path | str = ".") -> list[str]:
    """Names of the marked blocks whose text differs from what the files render now."""
    new = {m["name"]: m[0] for m in MARKER.finditer(update(readme_text, root))}
    return [m["name"] for m in MARKER.finditer(readme_text) if new[m["name"]] != m[0]]


def main(argv: list[str] | None = None) -> int:
    """Rewrite README.md in place, or with ``--check`` exit 1 and print the diff when it is stale."""
    parser = argparse.ArgumentParser(prog="python -m genrelab.report.readme", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 with a diff when README.md is stale")
    parser.add_argument("--readme", type=Path, default=Path("README.md"))
    parser.add_argument("--root", type=Path, default=Path("."), help="the folder holding results/ and metrics/")
    args = parser.parse_args(argv)
    text = args.readme.read_text()
    new = update(text, args.root)
    if not args.check:
        args.readme.write_text(new)
        return 0
    if new == text:
        return 0
    regenerated = f"{args.readme} (from {args.root / 'results'})"
    diff = difflib.unified_diff(text.splitlines(True), new.splitlines(True), str(args.readme), regenerated)
    sys.stdout.writelines(diff)
    blocks = ", ".join(stale(text, args.root))
    print(f"{args.readme} is stale in block(s) {blocks}: run `make readme`.", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
