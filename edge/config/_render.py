"""Write the declared sections out: a commented config file (``edgecall init``) and the
Markdown key tables kept in docs/configuration.md."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from typing import Any

from ._schema import REQUIRED, Section


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return repr(value)


def _comment(text: str, indent: str = "") -> list[str]:
    return [f"{indent}# {line}" for line in textwrap.wrap(text, 94)]


def render_config(sections: Iterable[Section], values: dict[str, dict[str, Any]]) -> str:
    """Every section and key with its doc. Optional sections are written commented out unless
    ``values`` has them."""
    out = ["# edgecall configuration. Every key is shown with its default; a commented-out",
           "# section is switched on (enabled = true) once its '# ' are removed. Every section",
           "# and key: docs/configuration.md. Unknown keys are errors.", ""]
    for section in sections:
        active = not section.optional or section.name in values
        prefix = "" if active else "# "
        out += _comment(section.doc)
        if not active:
            out.append(f"# (optional: remove the '# ' in front of [{section.name}] and its keys "
                       "to use it)")
        out.append(f"{prefix}[{section.name}]")
        for key in section.keys:
            out += _comment(f"{key.doc} Expected: {key.expected()}.")
            value = values.get(section.name, {}).get(key.name, key.default)
            if not active and key.name == "enabled" and key.type is bool:
                # Removing the '# ' is how the file says to turn a section on, so the switch
                # must read true then ([simulated] defaults to false when present).
                value = True
            if value is REQUIRED:
                value = key.example if key.example is not None else ""
            out.append(f"{prefix}{key.name} = {toml_value(value)}")
        out.append("")
    return "\n".join(out)


def render_markdown(sections: Iterable[Section]) -> str:
    out = []
    for section in sections:
        out.append(f"### `[{section.name}]`" + (" (optional)" if section.optional else ""))
        out.append("")
        out.append(section.doc)
        out.append("")
        out.append("| key | default | expected | meaning |")
        out.append("|---|---|---|---|")
        for key in section.keys:
            default = "required" if key.default is REQUIRED else f"`{toml_value(key.default)}`"
            doc = key.doc.replace("|", "\\|")
            out.append(f"| `{key.name}` | {default} | {key.expected()} | {doc} |")
        out.append("")
    return "\n".join(out)
