"""The folder layout's promise, checked: edge/ defines the line interface and imports neither
hardware/ nor sync/; hardware/ implements lines and never imports the engine, server or CLI;
sync/ reads the outbox and never imports hardware/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]

FORBIDDEN = {
    "edge": ("hardware", "sync"),
    # edge.lines, edge.config, edge.clock, edge.privacy and edge.doctor's result type are the
    # interfaces hardware builds on.
    "hardware": ("sync", "edge.survey", "edge.server", "edge.cli", "edge.demo", "edge.web",
                 "edge.store"),
    "sync": ("hardware",),
}


def imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_dependencies_run_one_way(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in files for line, name in imports(path)
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[package])
    ]
    assert not wrong, "\n".join(wrong)


# -- transitive: what importing a module pulls in, read from the imports of every file -------
def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _is_main_guard(node: ast.If) -> bool:
    return isinstance(node.test, ast.Compare) and isinstance(node.test.left, ast.Name) and \
        node.test.left.id == "__name__"


def _imported(path: Path, module: str) -> set[str]:
    """Every module a file imports when it runs (imports inside functions included: they run
    sooner or later), but not those only for type checkers or only when run as a script."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and (_is_type_checking(node) or _is_main_guard(node)):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for top in ("edge", "hardware", "sync"):
        for path in (ROOT / top).rglob("*.py"):
            module = _module_name(path)
            graph[module] = _imported(path, module)
    # Importing a.b.c runs a/__init__ and a/b/__init__ first.
    for module in list(graph):
        parts = module.split(".")
        graph[module] |= {".".join(parts[:i]) for i in range(1, len(parts))}
    return graph


def _reached(graph: dict[str, set[str]], start: str) -> dict[str, str | None]:
    """Every module importing ``start`` runs, each with the module that imported it."""
    parent: dict[str, str | None] = {start: None}
    todo = [start]
    while todo:
        module = todo.pop()
        for imported in graph.get(module, ()):
            if imported not in parent:
                parent[imported] = module
                todo.append(imported)
    return parent


def _chain(graph: dict[str, set[str]], start: str, bad: str) -> str | None:
    """``start -> ... -> bad`` when importing ``start`` pulls ``bad`` in, else None."""
    parent = _reached(graph, start)
    hit = next((m for m in sorted(parent) if m == bad or m.startswith(bad + ".")), None)
    if hit is None:
        return None
    chain = [hit]
    while (up := parent[chain[-1]]) is not None:
        chain.append(up)
    return " -> ".join(reversed(chain))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_nothing_a_package_imports_pulls_in_what_it_must_not(package: str) -> None:
    graph = _graph()
    wrong = [chain for module in sorted(m for m in graph if m.split(".")[0] == package)
             for bad in FORBIDDEN[package] if (chain := _chain(graph, module, bad))]
    assert not wrong, "\n".join(wrong)


def test_the_survey_engine_never_imports_the_store() -> None:
    """The sans-IO engine works on plain records (edge.records): importing it must not bring
    in the store, SQLite or sqlite-utils, or the server."""
    graph = _graph()
    wrong = [chain for module in sorted(m for m in graph if m.startswith("edge.survey"))
             for bad in ("edge.store", "sqlite_utils", "sqlite3", "edge.server")
             if (chain := _chain(graph, module, bad))]
    assert not wrong, "\n".join(wrong)


def test_the_record_vocabulary_depends_on_nothing_of_the_house() -> None:
    graph = _graph()
    pulled = {m for m in _reached(graph, "edge.records") if m.split(".")[0] in graph}
    assert pulled <= {"edge", "edge.records"}, pulled
