"""The README keeps the two commands a fresh machine runs, word for word (.ci/run runs the test
command verbatim), says how to stop the server, and its links and the docs' links lead
somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")

DEMO = "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/edgecall demo"
TEST = ("python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' "
        "&& .venv/bin/python -m pytest")


def _shell_lines(text: str) -> list[str]:
    return [line for block in re.findall(r"```sh\n(.*?)```", text, re.S)
            for line in block.splitlines()]


def test_the_demo_and_test_commands_are_there_verbatim() -> None:
    lines = _shell_lines(README)
    assert DEMO in lines and TEST in lines


def test_ci_runs_the_readme_test_command() -> None:
    assert TEST in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()


def test_the_readme_says_how_to_stop_serve() -> None:
    assert "Ctrl-C" in README and "SIGTERM" in README and "systemctl stop edgecall" in README


@pytest.mark.parametrize("page", [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))],
                         ids=lambda p: p.name)
def test_relative_links_lead_to_files(page: Path) -> None:
    links = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8"))
    broken = [link for link in links if not (page.parent / link).exists()]
    assert not broken, f"{page.name}: {broken}"
