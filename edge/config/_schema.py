"""Declarative config schema: every key has a type, a default and a sentence of docs.

The same declarations validate a loaded file (errors name the key, the value and what was
expected), write the commented file of ``edgecall init`` and the key tables of
docs/configuration.md. Hardware line kinds declare their own section with these classes (see
edge.lines.LineKind).

Hand-written rather than pydantic: the checks needed are small, the dependency is large on a
Raspberry Pi, and the error wording is ours.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from edge.words import number, size


class _Required:
    def __repr__(self) -> str:
        return "required"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class ConfigProblem:
    key: str  # dotted path, e.g. "server.max_concurrent_calls"
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


class ConfigError(Exception):
    """One or more problems in a config file; str() lists every one of them."""

    def __init__(self, source: str, problems: list[ConfigProblem]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}: {p}" for p in problems]
        super().__init__("\n".join(lines))


_TYPE_WORDS = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
_LIST_WORDS = {str: "strings", int: "integers", float: "numbers", bool: "true/false values"}


@dataclass(frozen=True)
class Key:
    """One config key. ``item`` is set for lists (``type=list``)."""

    name: str
    type: type
    default: Any
    doc: str
    choices: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    item: type | None = None
    check: Callable[[Any], str | None] | None = None
    example: Any = None  # shown in the commented config instead of the default
    unit: str | None = None  # "bytes": limits are also written as sizes ("4 MiB")

    def expected(self) -> str:
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.type is list:
            return f"a list of {_LIST_WORDS.get(self.item or str, 'values')}"
        words = _TYPE_WORDS.get(self.type, self.type.__name__)
        if self.min is not None and self.max is not None:
            text = f"{words} from {number(self.min)} to {number(self.max)}"
            if self.unit == "bytes":
                text += f" ({size(int(self.min))} to {size(int(self.max))})"
            return text
        if self.min is not None:
            return f"{words} >= {number(self.min)}"
        return words

    def validate(self, value: Any) -> tuple[Any, str | None]:
        """Return (converted value, problem or None)."""
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if self.type is list:
            if not isinstance(value, list) or not all(
                isinstance(v, self.item or str) and not isinstance(v, bool) for v in value
            ):
                return value, f"got {value!r}, expected {self.expected()}"
        elif not isinstance(value, self.type) or (
            self.type in (int, float) and isinstance(value, bool)
        ):
            return value, f"got {value!r}, expected {self.expected()}"
        if self.choices is not None and value not in self.choices:
            return value, f"got {value!r}, expected {self.expected()}"
        if self.min is not None and value < self.min:
            return value, f"got {value!r}, expected {self.expected()}"
        if self.max is not None and value > self.max:
            return value, f"got {value!r}, expected {self.expected()}"
        if self.check is not None:
            message = self.check(value)
            if message:
                return value, f"got {value!r}: {message}"
        return value, None


@dataclass(frozen=True)
class Section:
    """A ``[name]`` table of the config file.

    ``optional`` sections may be absent (a line kind that is not used); their values are then
    None as a whole.
    """

    name: str
    doc: str
    keys: tuple[Key, ...]
    optional: bool = False
    extra_check: Callable[[dict[str, Any]], list[ConfigProblem]] | None = field(
        default=None, compare=False
    )

    def parse(self, raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[ConfigProblem]]:
        problems: list[ConfigProblem] = []
        known = {k.name: k for k in self.keys}
        values: dict[str, Any] = {}
        for name, value in raw.items():
            key = known.get(name)
            if key is None:
                hint = _closest(name, known)
                problems.append(
                    ConfigProblem(
                        f"{self.name}.{name}",
                        "unknown key" + (f" (did you mean {hint!r}?)" if hint else "")
                        + f"; [{self.name}] takes: " + ", ".join(known),
                    )
                )
                continue
            converted, problem = key.validate(value)
            if problem:
                problems.append(ConfigProblem(f"{self.name}.{name}", problem))
            values[name] = converted
        for key in self.keys:
            if key.name not in values:
                if key.default is REQUIRED:
                    problems.append(ConfigProblem(f"{self.name}.{key.name}",
                                                  f"missing, expected {key.expected()}"))
                else:
                    values[key.name] = key.default
        if not problems and self.extra_check is not None:
            problems.extend(self.extra_check(values))
        return values, problems


def _closest(name: str, known: Mapping[str, Any]) -> str | None:
    import difflib

    matches = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return matches[0] if matches else None
