"""split: skip logic and branching on earlier answers, like Studio's split-based-on.

Authoring::

    {"name": "skip_children", "type": "split", "input": "{{answers.household}}",
     "conditions": [{"op": "greater_than", "value": "1", "next": "children"}],
     "else": "need"}

The first matching condition wins; ``else`` (default: the following state) otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from edge.survey._model import MATCH_PREFIX, State, Transition

from ._base import CompileContext, NodeKind


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _compare(test: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    def compare(actual: str, expected: str) -> bool:
        a, b = _number(actual), _number(expected)
        return a is not None and b is not None and test(a, b)

    return compare


def _any_of(actual: str, expected: str) -> bool:
    return actual.strip() in {v.strip() for v in expected.split(",")}


OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "equal_to": lambda a, b: a == b,
    "not_equal_to": lambda a, b: a != b,
    "greater_than": _compare(lambda a, b: a > b),
    "less_than": _compare(lambda a, b: a < b),
    "matches_any_of": _any_of,
    "does_not_match_any_of": lambda a, b: not _any_of(a, b),
    "contains": lambda a, b: b in a,
    "starts_with": lambda a, b: a.startswith(b),
    "is_blank": lambda a, _b: a.strip() == "",
    "is_not_blank": lambda a, _b: a.strip() != "",
    "regex": lambda a, b: re.search(b, a) is not None,
}


class Split(NodeKind):
    name = "split"
    behaviour = "route"
    keys = frozenset({"input", "conditions", "else"})
    prompt_required = False

    def compile(self, raw: Mapping[str, Any], path: str, following: str | None,
                ctx: CompileContext) -> tuple[dict[str, Any], list[Transition]]:
        name = raw.get("name")
        if "prompt" in raw:
            ctx.problem(f"{path}.prompt", "a split plays nothing; remove the prompt", name)
        source = raw.get("input")
        if not isinstance(source, str) or not source:
            ctx.problem(f"{path}.input", 'expected a template such as "{{answers.q1}}"', name)
            source = ""
        else:
            ctx.template(source, f"{path}.input", name)
        conditions: list[tuple[str, str]] = []
        transitions: list[Transition] = []
        raw_conditions = raw.get("conditions")
        if not isinstance(raw_conditions, list) or not raw_conditions:
            ctx.problem(f"{path}.conditions", "expected a non-empty list of conditions", name)
            raw_conditions = []
        for i, condition in enumerate(raw_conditions):
            cpath = f"{path}.conditions[{i}]"
            if not isinstance(condition, dict) or set(condition) - {"op", "value", "next"}:
                ctx.problem(cpath, 'expected {"op": ..., "value": ..., "next": ...}', name)
                continue
            op = condition.get("op")
            if op not in OPERATORS:
                ctx.problem(f"{cpath}.op", f"unknown operator {op!r}; known: "
                            + ", ".join(OPERATORS), name)
                continue
            value = condition.get("value", "")
            if isinstance(value, int | float) and not isinstance(value, bool):
                value = str(value)
            if not isinstance(value, str):
                ctx.problem(f"{cpath}.value", f"expected a string or number, got {value!r}", name)
                continue
            if op == "regex":
                try:
                    re.compile(value)
                except re.error as exc:
                    ctx.problem(f"{cpath}.value", f"bad regular expression: {exc}", name)
                    continue
            if "next" not in condition:
                ctx.problem(f"{cpath}.next", "missing: where does this condition lead?", name)
                continue
            conditions.append((op, value))
            transitions.append(Transition(f"{MATCH_PREFIX}{len(conditions) - 1}",
                                          ctx.target(condition["next"], f"{cpath}.next", name)))
        transitions.append(Transition("noMatch", ctx.target(raw.get("else", following),
                                                            f"{path}.else", name)))
        return {"input": source, "conditions": tuple(conditions)}, transitions

    def route(self, state: State, actual: str) -> str:
        actual = actual.strip()
        for index, (op, expected) in enumerate(state.props["conditions"]):
            if OPERATORS[op](actual, expected):
                return f"{MATCH_PREFIX}{index}"
        return "noMatch"


KIND = Split()
