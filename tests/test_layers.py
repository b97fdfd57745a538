"""Imports go one way: no cycle between modules or subpackages, and each import goes down the
layer order that CONTRIBUTING.md writes down (read from there, so the document is the rule).

An import cycle ties modules together: DVC's deps follow imports (``tests/test_dvc_deps.py``),
so a cycle makes every stage that imports one module depend on all of them, and an edit reruns
stages that do not use it. Imports inside functions and under ``TYPE_CHECKING`` count.
"""

from __future__ import annotations

import ast
import re
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

from conftest import ROOT
from test_dvc_deps import PACKAGE, imported_modules, module_file


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """``genrelab.a.b`` -> the genrelab modules it imports anywhere in its source."""
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        imported = {module_name(module_file(n)) for n in imported_modules(ast.parse(path.read_text()))}
        graph[name] = imported - {name}
    return graph


def unit(module: str) -> str:
    """The layer unit of a module: its subpackage (``data``), or itself if top-level (``config``)."""
    return module.split(".")[1] if module.count(".") else ""


def unit_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    units: dict[str, set[str]] = {}
    for module, imported in graph.items():
        if unit(module):
            units.setdefault(unit(module), set()).update(unit(i) for i in imported if unit(i) not in ("", unit(module)))
    return units


def a_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as err:
        return err.args[1]
    return None


def layer_order(text: str) -> list[list[str]]:
    """The numbered list under CONTRIBUTING.md's ``## Import layers``: ``1. `errors`, `constants`: ...``."""
    section = text.split("## Import layers", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\d+\. (.+)$", section, flags=re.M)
    return [re.findall(r"`(\w+)`", row.split(":", 1)[0]) for row in rows]


def upward_imports(graph: dict[str, set[str]], layers: list[list[str]]) -> list[str]:
    """Each import from a unit to a unit of the same or a higher layer (peers do not import each other)."""
    rank = {u: k for k, names in enumerate(layers) for u in names}
    return sorted(f"{module} -> {i} ({unit(module)} is layer {rank[unit(module)] + 1}, {unit(i)} is layer {rank[unit(i)] + 1})"
                  for module, imported in graph.items() for i in imported
                  if unit(module) and unit(i) and unit(i) != unit(module) and rank[unit(i)] >= rank[unit(module)])  # fmt: skip


GRAPH = import_graph()
LAYERS = layer_order((ROOT / "CONTRIBUTING.md").read_text())


def test_no_module_imports_itself_back():
    assert a_cycle(GRAPH) is None, f"import cycle between modules: {' -> '.join(a_cycle(GRAPH))}"


def test_no_subpackage_imports_itself_back():
    assert a_cycle(unit_graph(GRAPH)) is None, f"import cycle between subpackages: {' -> '.join(a_cycle(unit_graph(GRAPH)))}"


def test_every_module_has_a_layer():
    placed = {u for names in LAYERS for u in names}
    assert {unit(m) for m in GRAPH if unit(m)} <= placed, "place the new module or subpackage in CONTRIBUTING.md's ## Import layers"
    assert len(LAYERS) >= 10 and "data" in LAYERS[3] and LAYERS[-1] == ["cli"]


def test_imports_go_down_the_layers():
    assert upward_imports(GRAPH, LAYERS) == []


def test_package_inits_import_nothing():
    inits = [p for p in PACKAGE.rglob("__init__.py") if p.parent != PACKAGE]
    assert inits and all(not imported_modules(ast.parse(p.read_text())) for p in inits)


@pytest.mark.parametrize("graph, cyclic", [
    ({"genrelab.a.x": {"genrelab.b.y"}, "genrelab.b.y": {"genrelab.a.z"}, "genrelab.a.z": set()}, "units"),
    ({"genrelab.a.x": {"genrelab.a.z"}, "genrelab.a.z": {"genrelab.a.x"}}, "modules"),
])  # fmt: skip
def test_the_checks_see_a_cycle_and_an_upward_import(graph, cyclic):
    assert (a_cycle(graph) is not None) == (cyclic == "modules")
    assert a_cycle(unit_graph(graph)) is not None or cyclic == "modules"
    assert upward_imports({"genrelab.a.x": {"genrelab.b.y"}}, [["a"], ["b"]]) == ["genrelab.a.x -> genrelab.b.y (a is layer 1, b is layer 2)"]
    assert upward_imports({"genrelab.b.y": {"genrelab.a.x"}}, [["a"], ["b"]]) == []
    assert upward_imports({"genrelab.a.x": {"genrelab.b.y"}}, [["a", "b"]]) != []  # peers
