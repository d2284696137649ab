"""Liquid templates in prompt texts and split inputs ("{{answers.household}}"), as in Studio.

Parsed once when the survey loads (syntax errors are survey problems), rendered per call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import liquid

_ENV = liquid.Environment()


class Template:
    """Text that may contain Liquid markup; plain text skips the engine entirely."""

    __slots__ = ("_compiled", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self._compiled = _ENV.from_string(source) if ("{{" in source or "{%" in source) else None

    def render(self, context: Mapping[str, Any]) -> str:
        if self._compiled is None:
            return self.source
        return self._compiled.render(**context)


def parse_template(source: str) -> tuple[Template | None, str | None]:
    """(template, None) or (None, error message)."""
    try:
        return Template(source), None
    except liquid.exceptions.LiquidError as exc:
        return None, "template error: " + str(exc).splitlines()[0]
