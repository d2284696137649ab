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
