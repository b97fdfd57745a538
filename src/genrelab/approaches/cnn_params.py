"""The ``cnn:`` section of params.yaml, checked, and the model names it gives the two CNNs."""

from __future__ import annotations

from pathlib import Path

from genrelab.config import ParamsError, section


def check_params(raw: dict | None) -> dict:
    """The ``cnn:`` section of params.yaml checked by the one schema (:class:`genrelab.config.Cnn`),
    defaults filled in, and its weights file, when one is named, found on disk.

    A relative weights path is taken from the working directory (the project root).
    """
    params = section("cnn", raw)
    weights = params["transfer"]["weights"]
    if weights not in ("imagenet", "random") and not Path(weights).is_file():
        raise ParamsError(f"params.yaml: 'cnn.transfer.weights' names no file (looked at {Path(weights).resolve()}); "
                          f"got {weights!r}.")  # fmt: skip
    return params


def weights_label(params: dict) -> str:
    """Model name of the transfer model for the results table, saying which weights ran.

    ``mobilenetv2[imagenet]`` (transfer learning), ``mobilenetv2[random]`` (a random-feature
    baseline, not transfer learning) or ``mobilenetv2[file:<file name>]`` (a local weights file).
    ``params`` is the checked ``cnn`` section.
    """
    p = params["transfer"]
    weights = p["weights"] if p["weights"] in ("imagenet", "random") else f"file:{Path(p['weights']).name}"
    return f"{p['backbone']}[{weights}]"


def scratch_label(params: dict) -> str:
    """Model name of the scratch CNN: its filters per block, e.g. ``convnet[16-32-64-128]``, and
    the square input side when the segments are resized (``convnet[16-32-64]@64px``)."""
    p = params["scratch"]
    label = "convnet[" + "-".join(str(f) for f in p["filters"]) + "]"
    return label if p["input_size"] == "native" else f"{label}@{p['input_size']}px"
