"""The package is one package: `indicode`, whatever folders its parts live in.

pyproject.toml installs the top-level folders catalogue/, matcher/ and indexes/ as indicode.catalogue,
indicode.matcher and indicode.indexes. From the repository root `import catalogue` would load the folder
itself, so one module could exist under two names (and two `InputError` classes); and PyPI has a package
named `catalogue`. These tests read the sources (AST, so imports inside functions count too) and fail on
a top-level import of those names, on a module setuptools would leave out of the wheel, and on an import
cycle between the package's modules.
"""
from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest

from conftest import ROOT

FOLDER_NAMES = {"catalogue", "matcher", "indexes"}  # the folders pyproject maps under indicode


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def _package_folder(package: str, package_dir: dict[str, str]) -> Path:
    # setuptools' rule: the longest mapped prefix, then the rest of the dotted name as folders
    parts = package.split(".")
    for i in range(len(parts), 0, -1):
        prefix = ".".join(parts[:i])
        if prefix in package_dir:
            return ROOT / package_dir[prefix] / Path(*parts[i:])
    return ROOT / Path(*parts)


def package_modules() -> dict[str, tuple[Path, bool]]:
    """Every module the wheel installs: dotted name -> (source file, is a package)."""
    cfg = _setuptools()
    modules: dict[str, tuple[Path, bool]] = {}
    for package in cfg["packages"]:
        for path in sorted(_package_folder(package, cfg["package-dir"]).glob("*.py")):
            is_pkg = path.stem == "__init__"
            modules[package if is_pkg else f"{package}.{path.stem}"] = (path, is_pkg)
    return modules


def _calls_import_module(node: ast.AST) -> str | None:
    # importlib.import_module("x"), import_module("x"), __import__("x") with a literal name
    if not isinstance(node, ast.Call) or not node.args:
        return None
    f = node.func
    name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
    arg = node.args[0]
    if name in ("import_module", "__import__") and isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    return None


def absolute_imports(source: str) -> Iterator[tuple[str, int]]:
    """(module name, line) of every absolute import in a source, at any depth."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module, node.lineno
        elif (name := _calls_import_module(node)) is not None:
            yield name, node.lineno


def folder_name_imports(source: str) -> list[tuple[str, int]]:
    return [(name, line) for name, line in absolute_imports(source) if name.split(".")[0] in FOLDER_NAMES]


def _resolve(name: str, known: set[str]) -> str | None:
    # the deepest package module a dotted name refers to (`indicode.matcher.linker.Linker` -> the linker)
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        if ".".join(parts[:i]) in known:
            return ".".join(parts[:i])
    return None


def import_edges(module: str, is_pkg: bool, source: str, known: set[str]) -> Iterator[tuple[str, int]]:
    """(imported package module, line) for every import in a module, inside functions too.

    `from a import b` names the module a.b when there is one, else a itself. Importing a.b also runs
    a/__init__.py; that implicit step is not an edge, or every package would form a cycle with its parts.
    """
    here = module.split(".") if is_pkg else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if (target := _resolve(alias.name, known)) is not None:
                    yield target, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = here[: len(here) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                target = f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else _resolve(base, known)
                if target is not None:
                    yield target, node.lineno
        elif (name := _calls_import_module(node)) is not None and (target := _resolve(name, known)):
            yield target, node.lineno


def import_graph(modules: dict[str, tuple[str, bool]]) -> dict[str, dict[str, int]]:
    """module -> {imported module: first line}, from module -> (source, is a package)."""
    known = set(modules)
    graph: dict[str, dict[str, int]] = {}
    for name, (source, is_pkg) in modules.items():
        edges = graph.setdefault(name, {})
        for target, line in import_edges(name, is_pkg, source, known):
            if target != name:
                edges.setdefault(target, line)
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[tuple[list[str], list[str]]]:
    """For each group of modules that import each other (a strongly connected component): its members
    and one shortest cycle through the first of them."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(v: str) -> None:  # Tarjan; the graph has some fifty nodes, recursion is fine
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            visit(v)

    found = []
    for group in groups:
        start = min(group)
        paths = {start: [start]}
        frontier = [start]
        cycle = None
        while frontier and cycle is None:  # breadth first, inside the group, back to the start
            nxt = []
            for v in frontier:
                for w in sorted(graph[v]):
                    if w == start:
                        cycle = paths[v] + [start]
                        break
                    if w in group and w not in paths:
                        paths[w] = paths[v] + [w]
                        nxt.append(w)
                if cycle:
                    break
            frontier = nxt
        found.append((sorted(group), cycle))
    return sorted(found)


def _checked_files() -> list[Path]:
    files = [path for path, _ in package_modules().values()]
    files += sorted((ROOT / "scripts").rglob("*.py")) + sorted((ROOT / "tests").rglob("*.py"))
    return files


# --- the checks' own checks: each finds what it is for ------------------------------------------------------

def test_the_scan_finds_folder_imports_at_any_depth():
    src = '''
import os, matcher.linker
from indicode.matcher import linker
from catalogue import store
def f():
    import indexes
    class C:
        def g(self):
            from matcher.text import MAX_TEXT
    return importlib.import_module("catalogue.records"), __import__("json")
from . import catalogue
'''
    assert sorted(folder_name_imports(src), key=lambda x: x[1]) == [
        ("matcher.linker", 2), ("catalogue", 4), ("indexes", 6), ("matcher.text", 9), ("catalogue.records", 10)]


def test_the_cycle_finder_sees_an_import_inside_a_function():
    modules = {
        "indicode": ("", True),
        "indicode.server": ("", True),
        "indicode.server.app": ("from .reconcile import router\nimport indicode.server.run\n", False),
        "indicode.server.reconcile": ("def f():\n    from .app import create_app\n", False),
        "indicode.server.run": ("from indicode import server\nfrom indicode.server import app\n", False),
        "indicode.cli": ("import indicode.server.app as a\nfrom . import server\n", False),
    }
    graph = import_graph(modules)
    assert graph["indicode.server.run"] == {"indicode.server": 1, "indicode.server.app": 2}
    assert graph["indicode.cli"] == {"indicode.server.app": 1, "indicode.server": 2}
    assert cycles(graph) == [(["indicode.server.app", "indicode.server.reconcile", "indicode.server.run"],
                              ["indicode.server.app", "indicode.server.reconcile", "indicode.server.app"])]


# --- the checks -------------------------------------------------------------------------------------------

def test_every_source_folder_is_an_installed_package():
    """A folder of modules missing from pyproject's `packages` would be left out of the wheel: the
    editable install and the tests would still see it, a user's `pip install` would not."""
    cfg = _setuptools()
    installed = {_package_folder(p, cfg["package-dir"]).resolve() for p in cfg["packages"]}
    roots = [ROOT / folder for folder in cfg["package-dir"].values()]
    missing = sorted(str(f.relative_to(ROOT)) for root in roots for f in [root, *root.rglob("*")]
                     if f.is_dir() and any(f.glob("*.py")) and f.resolve() not in installed)
    assert not missing, f"folders with modules that pyproject.toml does not install: {missing}"


def test_nothing_imports_the_folders_by_their_own_names():
    found = []
    for path in _checked_files():
        for name, line in folder_name_imports(path.read_text(encoding="utf-8")):
            found.append(f"{path.relative_to(ROOT)}:{line}: imports {name!r}; use indicode.{name}")
    assert not found, "\n".join(found)


def test_the_package_has_no_import_cycle():
    modules = {name: (path.read_text(encoding="utf-8"), is_pkg)
               for name, (path, is_pkg) in package_modules().items()}
    graph = import_graph(modules)
    assert len(graph) > 30 and "indicode.matcher.linker" in graph["indicode.api"]  # the graph is real
    found = cycles(graph)
    shown = []
    for group, cycle in found:
        steps = [f"{a} (line {graph[a][b]}) -> {b}" for a, b in pairwise(cycle)]
        shown.append(f"modules that import each other: {', '.join(group)}\n  a cycle: " + ", ".join(steps))
    if found:
        pytest.fail("\n".join(shown), pytrace=False)


# ---------------------------------------------------------------- room sizes (issue 18)

MAX_MODULE_LINES = 350  # in matcher/ and catalogue/ (the readers aside)
MAX_FUNCTION_LINES = 60
ROUTE_TABLES = {("indicode/server/app.py", "create_app"), ("indicode/server/reconcile.py", "router"),
                ("indicode/server/jobs.py", "router")}  # a route per nested function: long by nature


def long_functions(source: str, limit: int = MAX_FUNCTION_LINES) -> list[tuple[str, int]]:
    """(name, lines) of each top-level or method function longer than `limit` lines."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = node.end_lineno - node.lineno + 1
            if lines > limit:
                found.append((node.name, lines))
    return found


def test_the_function_length_check_sees_a_long_function():
    src = "def f():\n" + "    x = 1\n" * 61 + "def g():\n    pass\n"
    assert long_functions(src) == [("f", 62)]


def test_no_core_module_is_a_large_room():
    big = [(str(p.relative_to(ROOT)), n) for folder in ("matcher", "catalogue") for p in (ROOT / folder).glob("*.py")
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES]
    assert big == []


def test_no_function_over_sixty_lines_outside_the_route_tables():
    files = [p for folder in ("matcher", "catalogue", "indicode") for p in (ROOT / folder).rglob("*.py")]
    long = [(str(p.relative_to(ROOT)), name, n) for p in files
            for name, n in long_functions(p.read_text(encoding="utf-8"))
            if (str(p.relative_to(ROOT)), name) not in ROUTE_TABLES]
    assert long == []
