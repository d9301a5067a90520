"""The package graph of src/peakday: no import cycles, and imports only go down the layers.

The source is read with `ast`, nothing is imported. Every import of a peakday module counts:
module-level, inside functions (lazy), under `if TYPE_CHECKING:`, and
`importlib.import_module("peakday...")` with a literal name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "src" / "peakday"

# A module may import from its own top-level package or module, or from one of strictly lower
# rank; two different packages of the same rank must not import each other. "__init__" is the
# root package itself (it only holds __version__). docs/architecture.md shows the same table.
LAYERS: Mapping[str, int] = {
    "__init__": 0,
    "errors": 0,
    "topology": 0,
    "console": 0,
    # paths of the files shipped in the package (journeys, experiments, schema); reads nothing
    "assets": 0,
    # request routing by name or path (pure): validation, platforms and locustfiles share it
    "routes": 0,
    # kept-alive HTTP/1.1 on the standard library (Toxiproxy's API and metrics, readiness URLs)
    "http_connection": 0,
    "experiment": 1,
    "processes": 2,
    "integrity": 2,
    "results": 3,
    "faults": 4,
    "load": 4,
    "storefront": 4,
    "runconfig": 4,
    # a run's undo stack; it records teardown errors as events
    "teardown": 4,
    # Below platforms: the Docker platform checks images exist and labels its containers as
    # images do; building an image needs nothing from any platform.
    "images": 4,
    # server-side signals: a Prometheus server, its HTTP API, PromQL series and alert timings
    "monitoring": 4,
    "scoring": 5,
    # getting a machine ready: tools install and doctor (checks images, finds binaries)
    "install": 5,
    "platforms": 6,
    "assemble": 6,
    "reporting": 7,
    # where a run meets the world (platform, load generator, clock): the orchestrator's seams
    "seams": 7,
    "orchestrator": 8,
    # the live dashboard: reads the run folder, views it as the report does; beside the run
    "dashboard": 8,
    "commands": 9,
    # cli registers the commands and __main__ runs cli: each is above what it imports.
    "cli": 10,
    "pytest_plugin": 10,
    "__main__": 11,
}

# Imports allowed to break the layers: none. An entry here is left out of both checks, and an
# entry whose import is gone fails test_the_allow_list_names_only_imports_that_still_exist, so
# the list can only shrink. Move code down instead of adding to it.
ALLOWED_UPWARD: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Import:
    source: str  # importing module, e.g. "peakday.load.runner"
    target: str  # imported module, e.g. "peakday.processes.children"
    where: str  # "load/runner.py:27"

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} ({self.where})"


def module_names(package_dir: Path) -> dict[str, Path]:
    """Dotted name -> file for every module under `package_dir` (a package's is its __init__)."""
    names = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = (package_dir.name, *path.relative_to(package_dir).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _resolve(name: str, modules: Mapping[str, Path]) -> str | None:
    """The module that importing `name` runs: itself, or the longest existing prefix."""
    while name not in modules:
        if "." not in name:
            return None
        name = name.rsplit(".", 1)[0]
    return name


def _imported_names(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The dotted names one AST node imports (names a `from` import takes come as candidates)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            package = module.split(".") if is_package else module.split(".")[:-1]
            base = package[: len(package) - (node.level - 1)]
            origin = ".".join([*base, *([node.module] if node.module else [])])
        else:
            origin = node.module or ""
        # `from a import b`: b is the module a.b when there is one, else a name in a.
        return [f"{origin}.{alias.name}" for alias in node.names if alias.name != "*"] or [origin]
    if isinstance(node, ast.Call) and node.args:
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        first = node.args[0]
        if called in ("import_module", "__import__") and isinstance(first, ast.Constant):
            return [first.value] if isinstance(first.value, str) else []
    return []


def build_graph(package_dir: Path) -> list[Import]:
    """Each (importing, imported) pair of the package's modules once, at its first import."""
    modules = module_names(package_dir)
    root = package_dir.name
    first_line: dict[tuple[str, str], int] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            for name in _imported_names(node, module, path.name == "__init__.py"):
                if name != root and not name.startswith(root + "."):
                    continue
                target = _resolve(name, modules)
                if target is not None and target != module:
                    line = getattr(node, "lineno", 0)
                    first_line[module, target] = min(line, first_line.get((module, target), line))
    return [
        Import(source, target, f"{modules[source].relative_to(package_dir)}:{line}")
        for (source, target), line in sorted(first_line.items())
    ]


def unit_of(module: str) -> str:
    """The top-level package or module that a module belongs to: its place in LAYERS."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def find_cycles(imports: Iterable[Import]) -> list[list[Import]]:
    """One cycle per strongly connected group of modules, as the imports that close it."""
    edges: dict[str, dict[str, Import]] = {}
    for imp in imports:
        edges.setdefault(imp.source, {}).setdefault(imp.target, imp)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:  # Tarjan's algorithm; the graph is small, recursion is fine
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in edges.get(node, {}):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return [_one_cycle(group, edges) for group in groups]


def _one_cycle(group: set[str], edges: Mapping[str, Mapping[str, Import]]) -> list[Import]:
    """A shortest path from the group's first module back to itself, within the group."""
    start = min(group)
    paths: dict[str, list[Import]] = {start: []}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for succ, imp in sorted(edges.get(node, {}).items()):
                if succ == start:
                    return [*paths[node], imp]
                if succ in group and succ not in paths:
                    paths[succ] = [*paths[node], imp]
                    following.append(succ)
        frontier = following
    raise AssertionError(f"no cycle through {start} in {sorted(group)}")  # not reachable


def upward_imports(imports: Iterable[Import], layers: Mapping[str, int]) -> list[Import]:
    """Imports across top-level packages that do not go to a strictly lower rank."""
    return [
        imp
        for imp in imports
        if unit_of(imp.source) != unit_of(imp.target)
        and layers[unit_of(imp.source)] <= layers[unit_of(imp.target)]
    ]


def format_cycle(cycle: list[Import]) -> str:
    chain = " -> ".join([cycle[0].source, *(imp.target for imp in cycle)])
    return chain + "\n" + "\n".join(f"    {imp.where} imports {imp.target}" for imp in cycle)


@pytest.fixture(scope="module")
def graph() -> list[Import]:
    return build_graph(PACKAGE_DIR)


def test_every_top_level_package_and_module_has_a_layer(graph: list[Import]) -> None:
    units = {unit_of(module) for module in module_names(PACKAGE_DIR)}
    unplaced = sorted(units - set(LAYERS))
    assert not unplaced, (
        f"Top-level package(s) or module(s) {unplaced} of src/peakday have no rank in LAYERS "
        "(tests/unit/test_architecture.py). Place each above everything it imports and below "
        "everything that imports it, and add it to the table in docs/architecture.md."
    )


def test_there_is_no_import_cycle(graph: list[Import]) -> None:
    cycles = find_cycles(imp for imp in graph if (imp.source, imp.target) not in ALLOWED_UPWARD)
    assert not cycles, "Import cycle(s) between peakday modules:\n" + "\n".join(
        format_cycle(cycle) for cycle in cycles
    )


def test_imports_go_only_to_lower_layers(graph: list[Import]) -> None:
    upward = [
        imp
        for imp in upward_imports(graph, LAYERS)
        if (imp.source, imp.target) not in ALLOWED_UPWARD
    ]
    assert not upward, (
        "Import(s) of a package that is not in a strictly lower layer (see LAYERS in "
        "tests/unit/test_architecture.py):\n"
        + "\n".join(
            f"    {imp} : {unit_of(imp.source)} (rank {LAYERS[unit_of(imp.source)]}) imports "
            f"{unit_of(imp.target)} (rank {LAYERS[unit_of(imp.target)]})"
            for imp in upward
        )
        + "\nHint: a lower layer that needs something from above means it lives in the wrong "
        "place; move it down rather than adding to ALLOWED_UPWARD."
    )


def test_the_allow_list_names_only_imports_that_still_exist(graph: list[Import]) -> None:
    present = {(imp.source, imp.target) for imp in graph}
    gone = sorted(ALLOWED_UPWARD - present)
    assert not gone, f"These imports are gone; remove them from ALLOWED_UPWARD: {gone}"


def test_the_graph_counts_lazy_type_checking_relative_and_importlib_imports(
    tmp_path: Path,
) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("__version__ = '1'\n")
    (package / "sub" / "__init__.py").write_text("from pkg.sub.leaf import VALUE\n")
    (package / "sub" / "leaf.py").write_text("from pkg import __version__\nVALUE = 1\n")
    (package / "top.py").write_text(
        "from __future__ import annotations\n"
        "import importlib\n"
        "from typing import TYPE_CHECKING\n"
        "from . import sub\n"
        "if TYPE_CHECKING:\n"
        "    from pkg.other import Thing\n"
        "def later() -> None:\n"
        "    import pkg.sub.leaf\n"
        "    importlib.import_module('pkg.other')\n"
    )
    (package / "other.py").write_text("from .top import later\n")
    edges = {(imp.source, imp.target) for imp in build_graph(package)}
    assert edges == {
        ("pkg.sub", "pkg.sub.leaf"),
        ("pkg.sub.leaf", "pkg"),
        ("pkg.top", "pkg.sub"),
        ("pkg.top", "pkg.other"),
        ("pkg.top", "pkg.sub.leaf"),
        ("pkg.other", "pkg.top"),
    }
    (cycle,) = find_cycles(build_graph(package))
    assert [imp.source for imp in cycle] == ["pkg.other", "pkg.top"]
    layers = {"__init__": 0, "sub": 1, "top": 2, "other": 2}
    upward = upward_imports(build_graph(package), layers)
    assert {(imp.source, imp.target) for imp in upward} == {
        ("pkg.top", "pkg.other"),
        ("pkg.other", "pkg.top"),
    }
