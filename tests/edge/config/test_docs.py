"""Every config key of every installed section is documented in docs/configuration.md
(regenerate the tables with ``python -m edge.config.docs``), and the docs the code points
people to exist."""

from __future__ import annotations

import json
import re
from pathlib import Path

from edge.config.docs import BEGIN, generated
from edge.lines.simulated import CallerScript
from edge.plugins import all_sections

ROOT = Path(__file__).parents[3]
CONFIGURATION = ROOT / "docs" / "configuration.md"


def test_every_key_of_every_installed_section_is_documented() -> None:
    text = CONFIGURATION.read_text(encoding="utf-8")
    missing = [f"[{s.name}] {k.name}" for s in all_sections() for k in s.keys
               if f"`[{s.name}]`" not in text or f"| `{k.name}` |" not in text]
    assert not missing, f"undocumented config keys: {missing}; run python -m edge.config.docs"


def test_the_key_tables_are_current() -> None:
    assert generated(all_sections()) in CONFIGURATION.read_text(encoding="utf-8"), (
        "docs/configuration.md key tables are stale; run python -m edge.config.docs")


def test_the_readme_links_the_key_tables_instead_of_copying_them() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/configuration.md" in readme
    assert BEGIN not in readme and "| `max_concurrent_calls` |" not in readme


def test_the_calls_file_example_is_a_valid_calls_file() -> None:
    text = CONFIGURATION.read_text(encoding="utf-8")
    blocks = re.findall(r"```json\n(.*?)```", text, re.S)
    assert blocks
    for block in blocks:
        for entry in json.loads(block):
            CallerScript.from_json(entry)


def test_every_doc_the_code_names_exists() -> None:
    named = {match for package in ("edge", "sync", "hardware")
             for path in (ROOT / package).rglob("*.py")
             for match in re.findall(r"docs/[\w-]+\.md", path.read_text(encoding="utf-8"))}
    assert "docs/configuration.md" in named
    assert not [name for name in named if not (ROOT / name).is_file()]
