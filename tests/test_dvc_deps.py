"""Every DVC stage's deps cover the code it runs: the import closure of its notebook or command.

A stage whose deps miss a module it imports is not rerun when that module changes, and its
results go silently stale. This test follows the imports (module-level and inside functions) from
each stage's entry point through ``src/genrelab`` and asserts that each file reached is a dep, or
sits in a folder that is.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

PACKAGE = ROOT / "src" / "genrelab"
STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def module_file(name: str) -> Path | None:
    """``genrelab.a.b`` -> its source file, or None when it is not in the package."""
    parts = name.split(".")
    if parts[0] != "genrelab":
        return None
    base = PACKAGE.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(tree: ast.AST) -> set[str]:
    """Dotted names of the genrelab modules a piece of code imports, wherever the import sits."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}  # `from genrelab import x`
    return {n for n in names if module_file(n) is not None}


def closure(entry: set[str]) -> set[Path]:
    """Source files reached from the modules ``entry``, packages' ``__init__`` included."""
    seen: set[Path] = set()
    todo = list(entry)
    while todo:
        name = todo.pop()
        path = module_file(name)
        parents = [".".join(name.split(".")[:k]) for k in range(1, name.count(".") + 1)]
        todo += [p for p in parents if module_file(p) not in seen]
        if path is None or path in seen:
            continue
        seen.add(path)
        todo += sorted(imported_modules(ast.parse(path.read_text())))
    return seen


def module_level_imports(path: Path) -> set[str]:
    """The genrelab modules a file imports at module level (not those its functions import)."""
    body = [node for node in ast.parse(path.read_text()).body if isinstance(node, (ast.Import, ast.ImportFrom))]
    return imported_modules(ast.Module(body=body, type_ignores=[]))


def entry(stage: dict) -> tuple[set[str], set[Path]]:
    """Where a stage's command starts: (genrelab modules to follow, files run but not followed).

    A notebook stage starts from its notebook's code cells, a ``python -m genrelab.X`` stage from
    that module. A ``genrelab <command>`` stage runs
    ``cli.py`` and the ``genrelab.commands`` modules it imports, and starts from that command's
    handler in one of them: only the handler's imports and its module's module-level imports are
    followed (the other handlers import other modules, lazily).
    """
    cmd = stage["cmd"]
    notebook = re.search(r"(notebooks/\S+\.ipynb)", cmd)
    if notebook:
        cells = json.loads((ROOT / notebook.group(1)).read_text())["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        code = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))
        return imported_modules(ast.parse(code)), set()
    module = re.search(r"\bpython -m (genrelab[\w.]+)", cmd)
    if module:
        return {module.group(1)}, set()
    command = re.search(r"\bgenrelab ([\w-]+)", cmd)  # after the ${cpu} pins
    assert command, f"stage command not understood: {cmd!r}"
    name = f"_cmd_{command.group(1).replace('-', '_')}"  # genrelab quality-data -> _cmd_quality_data
    groups = {module_file(m) for m in module_level_imports(PACKAGE / "cli.py") if m.startswith("genrelab.commands")}
    for group in sorted(groups):
        handler = next((f for f in ast.parse(group.read_text()).body
                        if isinstance(f, ast.FunctionDef) and f.name == name), None)  # fmt: skip
        if handler is not None:
            return imported_modules(handler) | module_level_imports(group), {PACKAGE / "cli.py", *groups}
    raise AssertionError(f"no handler {name} in the modules cli.py imports: {sorted(map(str, groups))}")


def stage_files(stage: dict) -> set[Path]:
    modules, run = entry(stage)
    return closure(modules) | run


def uncovered(stage: dict, files: set[Path]) -> list[str]:
    """The files not covered by the stage's deps; an ``__init__.py`` without imports runs nothing."""
    deps = [ROOT / d for d in stage.get("deps", [])]
    needed = {f for f in files if f.name != "__init__.py" or imported_modules(ast.parse(f.read_text()))}
    return sorted(f.relative_to(ROOT).as_posix() for f in needed if not any(f == d or d in f.parents for d in deps))


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_deps_cover_the_code_it_imports(name):
    missing = uncovered(STAGES[name], stage_files(STAGES[name]))
    assert missing == [], (f"stage {name!r} imports these files but does not list them in its deps: {missing}. "
                           "Run `python tests/test_dvc_deps.py --write` to list each stage's import closure.")


def test_the_closure_finds_imports_inside_functions_and_would_catch_a_gap():
    # stages.features.run_features imports genrelab.features.gtzan57 inside the function: the closure sees it.
    files = {f.relative_to(ROOT).as_posix() for f in closure({"genrelab.stages.features"})}
    assert {"src/genrelab/features/gtzan57.py", "src/genrelab/data/manifest.py", "src/genrelab/stages/common.py"} <= files
    # The gaps this test was written for: audio_models without splits.py, cnn without spectrograms.py.
    for name, gap in (("audio_models", "src/genrelab/evaluation/splits.py"), ("cnn", "src/genrelab/features/spectrograms.py")):
        thin = {**STAGES[name], "deps": [d for d in STAGES[name]["deps"] if d != gap]}
        assert gap in uncovered(thin, stage_files(thin))
    # A command stage runs cli.py and the command modules, but follows only its handler's imports.
    scores, book = stage_files(STAGES["scores"]), stage_files(STAGES["book"])
    assert {PACKAGE / "cli.py", PACKAGE / "commands" / "study.py", PACKAGE / "commands" / "report.py"} <= scores
    assert PACKAGE / "evaluation" / "results.py" in scores and PACKAGE / "report" / "book.py" not in scores
    assert PACKAGE / "report" / "book.py" in book and PACKAGE / "evaluation" / "results.py" not in book


def write_deps(dvc_file: Path = ROOT / "dvc.yaml") -> None:
    """Rewrite each stage's ``src/genrelab`` deps in ``dvc_file`` as its import closure, sorted
    (the other deps, comments and layout are kept): ``python tests/test_dvc_deps.py --write``."""
    lines, out, stage = dvc_file.read_text().splitlines(), [], None
    i = 0
    while i < len(lines):
        line = lines[i]
        if match := re.match(r"^  (\w+):$", line):
            stage = match.group(1)
        out.append(line)
        i += 1
        if line == "    deps:" and stage in STAGES:
            deps = []
            while i < len(lines) and lines[i].startswith("      - "):
                deps.append(lines[i][8:])
                i += 1
            files = stage_files(STAGES[stage])
            needed = sorted(f.relative_to(ROOT).as_posix() for f in files
                            if f.name != "__init__.py" or imported_modules(ast.parse(f.read_text())))  # fmt: skip
            out += [f"      - {d}" for d in [d for d in deps if not d.startswith("src/genrelab/")] + needed]
    dvc_file.write_text("\n".join(out) + "\n")


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["--write"]:
        raise SystemExit("usage: python tests/test_dvc_deps.py --write   (rewrites dvc.yaml's src deps)")
    write_deps()
