"""Load and check ``params.yaml``.

Every stage reads its own section through :func:`load_params`. The schema below is the single
list of known keys and their types: an unknown key (a typo) or a value of the wrong type stops
the run with a message naming the key, instead of being silently ignored.

Sub-trees listed in ``OPEN_KEYS`` are free-form (estimator keyword arguments, say): their own
keys are checked later by the code that uses them.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml

from genrelab.errors import GenrelabError

# Each leaf is the default value; its Python type is the type the key must hold.
# ``float`` leaves accept ints too. ``None`` leaves accept anything.
SCHEMA: dict[str, Any] = {
    "data": {
        "source": "demo",  # demo | gtzan | folder
        "root": "data/raw",
        # GTZAN metadata: paths may be empty, then the matching feature is off.
        "gtzan_index": "",  # mirdata-style md5 index (json)
        "gtzan_artists": "",  # Sturm's artist index (txt)
        "gtzan_splits": "",  # folder with {train,valid,test}_filtered.txt
        # Optional public feature tables used in place of extracted features.
        "public_features_30s": "",
        "public_features_3s": "",
    },
    "prepare": {
        "segment_seconds": 3.0,
        "test_fraction": 0.25,
        "seed": 42,
        "protocols": ["random_segment", "track_grouped", "artist_grouped", "fault_filtered"],
        "near_duplicate_threshold": 0.93,
    },
    "features": {"jobs": 2},
    "audio_models": {
        "seed": 42,
        "cv_folds": 5,
        "levels": ["segment", "clip"],
        "input": "extracted",  # extracted | public
        "models": None,  # open: model name -> estimator kwargs
    },
    "spectrograms": {
        "sr": 22050,
        "n_mels": 128,
        "n_fft": 2048,
        "hop_length": 512,
        "fmin": 0.0,
        "fmax": 11025.0,
        "ref": "max",  # max | unit
        "top_db": 80.0,
        "clip_seconds": 30.0,
        "png": True,
        "image_dpi": 100,
        "jobs": 2,
    },
    "image_models": {
        "seed": 42,
        "cv_folds": 0,
        "pixels": {"n_components": 0.9, "fit_rows": 3000, "models": None},
        "hog": {
            "pixels_per_cell": [9, 12],
            "orientations": 9,
            "cells_per_block": 2,
            "n_components": 0.9,
            "fit_rows": 3000,
            "jobs": 1,
            "models": None,
        },
        "shelf": {"floor_db": -50.0, "models": None},
    },
    "cnn": None,
    "compare": None,
}

# Paths (dotted) whose values are free-form mappings.
OPEN_KEYS = {
    "audio_models.models",
    "image_models.pixels.models",
    "image_models.hog.models",
    "image_models.shelf.models",
    "cnn",
    "compare",
}


class ParamsError(GenrelabError):
    """A problem in params.yaml, with the dotted key and how to fix it."""


def load_params(path: str | Path = "params.yaml", section: str | None = None) -> dict:
    """Read ``params.yaml``, check it against :data:`SCHEMA` and fill in defaults.

    Parameters
    ----------
    path : path to the YAML file.
    section : if given, return only that top-level section.
    """
    path = Path(path)
    if not path.exists():
        raise ParamsError(f"{path}: file not found. Run from the project root, or pass its path.")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ParamsError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: the top level must be a mapping of sections, got {type(raw).__name__}.")
    params = _check(raw, SCHEMA, prefix="", source=path)
    if section is None:
        return params
    if section not in params:
        raise ParamsError(f"{path}: no section {section!r}; known: {', '.join(SCHEMA)}")
    return params[section]


def _check(value: Any, schema: Any, prefix: str, source: Path) -> Any:
    if prefix in OPEN_KEYS or schema is None:
        return value
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            raise ParamsError(f"{source}: '{prefix}' must be a mapping, got {value!r}.")
        out = {}
        for key, sub in value.items():
            dotted = f"{prefix}.{key}" if prefix else str(key)
            if key not in schema:
                hint = difflib.get_close_matches(str(key), [str(k) for k in schema], n=1)
                fix = f" Did you mean '{hint[0]}'?" if hint else f" Known keys: {', '.join(schema)}."
                raise ParamsError(f"{source}: unknown key '{dotted}'.{fix}")
            out[key] = _check(sub, schema[key], dotted, source)
        for key, default in schema.items():
            out.setdefault(key, default)
        return out
    return _check_leaf(value, schema, prefix, source)


def _check_leaf(value: Any, default: Any, key: str, source: Path) -> Any:
    expected = type(default)
    ok = isinstance(value, expected)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        ok, value = True, float(value)
    if expected is int and isinstance(value, bool):
        ok = False
    if not ok:
        raise ParamsError(
            f"{source}: '{key}' must be {_type_name(expected)} (like {default!r}), "
            f"got {value!r} ({_type_name(type(value))})."
        )
    return value


def _type_name(t: type) -> str:
    return {int: "an integer", float: "a number", str: "a string", list: "a list", bool: "true/false"}.get(
        t, t.__name__
    )
