"""The package layout keeps its promises: imports point one way, and only the CLI knows argparse.

Layers, top to bottom (a module may import its own layer's modules, without cycles, and any lower layer):
front-ends (scoring.cli, scoring.web) → scoring.api → scoring.analysis / scoring.outputs / scoring.inputs
→ scoring.core. scoring.store sits beside the operations: only front-ends use it, and it uses the core.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "scoring"

#: rank of each top-level part of the package; an import may only go to an equal or lower rank
RANK = {"cli": 4, "web": 4, "api": 3, "store": 2, "analysis": 2, "outputs": 2, "inputs": 2, "core": 1, "": 0}
#: parts of the same rank that must not import each other
APART = {("cli", "web"), ("web", "cli"), ("store", "analysis"), ("store", "outputs"), ("store", "inputs"),
         ("analysis", "store"), ("outputs", "store"), ("inputs", "store")}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _part(module: str) -> str:
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else ""


def _imports(path: Path, module: str) -> list[tuple[str, int]]:
    """Every module imported (at any depth of the file: lazy imports count too), with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((a.name, node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((target, node.lineno))
            for alias in node.names:  # `from scoring.cli import common` imports a module too
                found.append((f"{target}.{alias.name}", node.lineno))
    return found


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        graph[name] = {t for t, _ in _imports(path, name) if t in MODULES and t != name}
    return graph


def test_the_layout_has_its_layers() -> None:
    for part in ("core", "inputs", "analysis", "outputs", "cli"):
        assert (PACKAGE / part / "__init__.py").is_file(), part
    assert (PACKAGE / "api.py").is_file()


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module: str) -> None:
    mine = _part(module)
    for target, line in _imports(MODULES[module], module):
        if not target.startswith("scoring.") or target not in MODULES:
            continue
        theirs = _part(target)
        assert RANK[theirs] <= RANK[mine], f"{MODULES[module]}:{line}: {module} ({mine}) imports {target} ({theirs})"
        assert (mine, theirs) not in APART, f"{MODULES[module]}:{line}: {mine} must not import {theirs}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_only_the_cli_knows_argparse_and_the_cli(module: str) -> None:
    if _part(module) == "cli":
        return
    for target, line in _imports(MODULES[module], module):
        assert target.split(".")[0] != "argparse", f"{MODULES[module]}:{line}: imports argparse"
        assert not target.startswith("scoring.cli"), f"{MODULES[module]}:{line}: imports {target}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _part(m) not in ("cli", "web")))
def test_operations_never_print_exit_or_read_argv(module: str) -> None:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("print", "exit", "quit"):
            pytest.fail(f"{MODULES[module]}:{node.lineno}: calls {node.func.id}()")
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "sys" \
                and node.attr in ("argv", "exit", "stdout", "stderr"):
            pytest.fail(f"{MODULES[module]}:{node.lineno}: uses sys.{node.attr}")


def test_no_import_cycles() -> None:
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                pytest.fail("import cycle: " + " → ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)


def test_the_checker_sees_a_bad_import(tmp_path: Path) -> None:
    """The rules above would catch an upward import (the check itself can fail)."""
    bad = tmp_path / "scoring" / "core" / "x.py"
    bad.parent.mkdir(parents=True)
    bad.write_text("from scoring.api import score\nimport argparse\n", encoding="utf-8")
    found = [t for t, _ in _imports(bad, "scoring.core.x")]
    assert "scoring.api" in found and "argparse" in found
    assert RANK[_part("scoring.api")] > RANK[_part("scoring.core.x")]


#: the dossier reader, replaced by the DuckDB engine (issue 10); the list only ever gets shorter
NOT_YET_SPLIT = {"scoring/inputs/dossiers/legacy.py"}


def test_no_module_is_too_long() -> None:
    """Files a maintainer can read: about 800 lines at most."""
    long = {str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 850
            and str(p.relative_to(ROOT)) not in NOT_YET_SPLIT}
    assert not long, f"modules over 850 lines: {long}"
