"""split-based-on -> ``split``: every Studio operator, several conditions in one match as
``all`` (AND), the author's friendly names kept (Studio's own "If value equal_to 1" are not)."""

from __future__ import annotations

import re
from typing import Any

from edge.survey.nodes.split import OPERATORS

from .._context import FlowContext, next_of

TYPE = "split-based-on"
EVENTS = frozenset({"noMatch", "match"})

_DEFAULT_NAME = re.compile(r"^If value \w+", re.IGNORECASE)


def author_name(condition: dict[str, Any]) -> str | None:
    """The friendly name when the author wrote one (Studio fills in "If value equal_to 1")."""
    name = condition.get("friendly_name")
    if not isinstance(name, str) or not name.strip() or _DEFAULT_NAME.match(name):
        return None
    return name.strip()


def convert(name: str, state: dict[str, Any], ctx: FlowContext) -> list[dict[str, Any]]:
    props = state.get("properties", {})
    source = str(props.get("input", ""))
    conditions: list[dict[str, Any]] = []
    for j, transition in enumerate(state.get("transitions", [])):
        if transition.get("event") != "match":
            continue
        tests = []
        for k, condition in enumerate(transition.get("conditions") or []):
            op = condition.get("type")
            if op not in OPERATORS:
                ctx.problem(name, f"operator {op!r} is not one of Studio's",
                            f".transitions[{j}].conditions[{k}].type")
                continue
            test: dict[str, Any] = {"op": op}
            if op not in ("is_blank", "is_not_blank"):
                test["value"] = str(condition.get("value", ""))
            arguments = condition.get("arguments") or []
            if arguments and str(arguments[0]) != source:
                test["input"] = str(arguments[0])
            tests.append((test, author_name(condition)))
        if not tests:
            ctx.problem(name, "a match with no conditions", f".transitions[{j}]")
            continue
        names = [n for _t, n in tests if n]
        entry: dict[str, Any] = ({**tests[0][0]} if len(tests) == 1
                                 else {"all": [t for t, _n in tests]})
        if names:
            entry["name"] = " and ".join(names)
        entry["next"] = transition.get("next") or None
        conditions.append(entry)
    if not conditions:  # only noMatch: Studio goes straight on
        return [{"name": name, "type": "set", "variables": [],
                 "next": next_of(state, "noMatch")}]
    split: dict[str, Any] = {"name": name, "type": "split", "conditions": conditions,
                             "else": next_of(state, "noMatch")}
    if source:
        split["input"] = source
    return [split]
