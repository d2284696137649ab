"""Every config key of every installed section is documented in the README (regenerate the
tables with ``python -m edge.config.docs``)."""

from __future__ import annotations

from pathlib import Path

from edge.config._render import render_markdown
from edge.plugins import all_sections

README = Path(__file__).parents[3] / "README.md"


def test_every_key_of_every_installed_section_is_documented() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [f"[{s.name}] {k.name}" for s in all_sections() for k in s.keys
               if f"`[{s.name}]`" not in text or f"| `{k.name}` |" not in text]
    assert not missing, f"undocumented config keys: {missing}; run python -m edge.config.docs"


def test_the_readme_tables_are_current() -> None:
    assert render_markdown(all_sections()) in README.read_text(encoding="utf-8"), (
        "README key tables are stale; run python -m edge.config.docs")
