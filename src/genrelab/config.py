"""Reading ``params.yaml`` against its one schema (:mod:`genrelab.schema`).

:func:`load_params` checks the whole file against :class:`~genrelab.schema.Params`;
:func:`section` checks one section given as a mapping (a notebook's or a test's overrides). Any
problem stops the run with a :class:`ParamsError` naming the dotted key, what it must be and what
it got, one line per problem; an unknown key (a typo) gets the nearest known one suggested.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from genrelab.errors import GenrelabError
from genrelab.schema import (  # noqa: F401  (the names the stages and notebooks import from here)
    BACKBONE_NAMES,
    DEFAULTS_FILE,
    IMAGENET_SIZES,
    MUSICNN_CHECKPOINTS,
    SECTIONS,
    SERVABLE_APPROACHES,
    KeyedError,
    Params,
    Section,
)


class ParamsError(GenrelabError):
    """A problem in params.yaml, with the dotted key and how to fix it."""


# ------------------------------------------------------------------------------------- reading


def load_params(path: str | Path = "params.yaml", section: str | None = None) -> dict:
    """Read ``params.yaml``, check it against :class:`Params` and fill in defaults.

    Parameters
    ----------
    path : path to the YAML file.
    section : if given, return only that top-level section.

    Returns
    -------
    The parameters as plain dicts and lists, every default filled in.
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
    params = _validate(Params, raw, prefix="", source=str(path))
    if section is None:
        return params
    if section not in params:
        raise ParamsError(f"{path}: no section {section!r}; known: {', '.join(SECTIONS)}")
    return params[section]


def section(name: str, raw: dict | None = None) -> dict:
    """One section of params.yaml (``cnn``, ``compare``, ...) from a mapping, checked, defaults filled in."""
    if name not in SECTIONS:
        raise ParamsError(f"no params section {name!r}; known: {', '.join(SECTIONS)}")
    return _validate(SECTIONS[name], raw or {}, prefix=name, source="params.yaml")


def _validate(model: type[Section], raw: Any, prefix: str, source: str) -> dict:
    try:
        return model.model_validate(raw).model_dump()
    except ValidationError as err:
        lines = [_message(model, error, prefix) for error in err.errors()]
        raise ParamsError(f"{source}: " + "\n".join(dict.fromkeys(lines))) from None


_TYPE_NAMES = {int: "an integer", float: "a number", str: "a string", list: "a list", bool: "true/false", dict: "a mapping"}


def _message(model: type[Section], error: dict, prefix: str) -> str:
    """One line for one pydantic error: ``'<dotted key>' must be <rule>, got <value>.``"""
    parts = [part for part in error["loc"] if not str(part).startswith(("function-", "literal["))]
    loc = [str(part) for part in parts if not isinstance(part, int)]
    item = "".join(f" (item {part})" for part in parts if isinstance(part, int))  # list positions, 0-based
    ctx = error.get("ctx") or {}
    keyed = ctx.get("error")
    if isinstance(keyed, KeyedError):
        loc, rule, value = [*loc, keyed.key], keyed.rule, keyed.value
    else:
        rule, value = _rule(error, model, loc), error.get("input")
    dotted = ".".join([prefix, *loc] if prefix else loc)
    if error["type"] == "extra_forbidden":
        known = list(_model_at(model, loc[:-1]).model_fields) if _model_at(model, loc[:-1]) else []
        hint = difflib.get_close_matches(loc[-1], known, n=1)
        fix = f"Did you mean '{hint[0]}'?" if hint else f"Known keys: {', '.join(known)}."
        return f"unknown key '{dotted}'. {fix}"
    return f"'{dotted}'{item} {rule}, got {value!r}."


def _rule(error: dict, model: type[Section], loc: list[str]) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "literal_error":
        return f"must be one of {ctx['expected']}"
    if kind.endswith("_type") or kind in ("model_type", "dict_type", "list_type"):
        expected = {"int_type": int, "float_type": float, "string_type": str, "bool_type": bool,
                    "list_type": list, "dict_type": dict, "model_type": dict}.get(kind)  # fmt: skip
        default = _default_at(model, loc)
        like = f" (like {default!r})" if default is not None and not isinstance(default, Section) else ""
        return f"must be {_TYPE_NAMES.get(expected, kind.removesuffix('_type'))}{like}"
    if kind == "missing":
        return f"is missing: params.yaml ({DEFAULTS_FILE}) names every key, with its default"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return error["msg"].replace("Input should be", "must be").replace("List should have", "must have")


def _model_at(model: type[Section], loc: list[str]) -> type[Section] | None:
    for part in loc:
        field = model.model_fields.get(part)
        if field is None or not (isinstance(field.annotation, type) and issubclass(field.annotation, Section)):
            return None
        model = field.annotation
    return model


def _default_at(model: type[Section], loc: list[str]) -> Any:
    parent = _model_at(model, loc[:-1]) if loc else None
    if parent is None or loc[-1] not in parent.model_fields:
        return None
    return parent.model_fields[loc[-1]].get_default(call_default_factory=True)
