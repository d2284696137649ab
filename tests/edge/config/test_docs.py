"""Every config key is documented in docs/configuration.md (regenerate with
``python -m edge.config.docs > docs/configuration-keys.md`` — see the file's header)."""

from __future__ import annotations

from pathlib import Path

from edge.config import all_sections

DOC = Path(__file__).parents[3] / "docs" / "configuration.md"


def test_every_key_of_every_installed_section_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [f"[{s.name}] {k.name}" for s in all_sections() for k in s.keys
               if f"`[{s.name}]`" not in text or f"| `{k.name}` |" not in text]
    assert not missing, f"undocumented config keys: {missing}; run python -m edge.config.docs"
