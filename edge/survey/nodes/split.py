"""split: skip logic and branching on anything the call knows, like Studio's split-based-on.

Authoring::

    {"name": "skip_children", "type": "split", "input": "{{answers.household}}",
     "conditions": [
       {"op": "greater_than", "value": 1, "next": "children"},
       {"name": "teen", "all": [{"op": "greater_than", "value": 12},
                                {"op": "less_than", "value": 20}], "next": "school"}],
     "else": "need"}

The input (and each value) is Liquid: ``{{widgets.menu.Digits}}``, ``{{flow.variables.lang}}``,
``{{trigger.call.From}}``, ``{{flow.data.x}}``, ``{{answers.q}}``. A condition is one test or
``all`` of several (AND, as in one Studio transition with several conditions); a test may
give its own ``input``. The first matching condition wins; ``else`` (default: the following
state) otherwise. ``name`` is the author's label for the condition (Studio's friendly_name).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from typing import Any

from edge.survey._model import MATCH_PREFIX, Settings, State, Transition
from edge.survey._problems import shown

from ._base import CompileContext, NodeKind, Render, Step


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


_TIME_FORMATS = ("%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M%p", "%I %p", "%H%M")
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d")


def _time(text: str) -> time | None:
    text = text.strip()
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(text.upper(), fmt).time()
        except ValueError:
            pass
    try:
        return datetime.fromisoformat(text).time()
    except ValueError:
        return None


def _date(text: str) -> date | None:
    text = text.strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        return None


def _order(parse: Callable[[str], Any], before: bool) -> Callable[[str, str], bool]:
    def compare(actual: str, expected: str) -> bool:
        a, b = parse(actual), parse(expected)
        return a is not None and b is not None and (a < b if before else a > b)

    return compare


# Studio's operators (split-based-on), then two edgecall adds for XLSForm's >= and <=.
OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "equal_to": lambda a, b: a == b,
    "not_equal_to": lambda a, b: a != b,
    "matches_any_of": _any_of,
    "does_not_match_any_of": lambda a, b: not _any_of(a, b),
    "is_blank": lambda a, _b: a.strip() == "",
    "is_not_blank": lambda a, _b: a.strip() != "",
    "regex": lambda a, b: re.search(b, a) is not None,
    "contains": lambda a, b: b in a,
    "does_not_contain": lambda a, b: b not in a,
    "starts_with": lambda a, b: a.startswith(b),
    "does_not_start_with": lambda a, b: not a.startswith(b),
    "less_than": _compare(lambda a, b: a < b),
    "greater_than": _compare(lambda a, b: a > b),
    "is_before_time": _order(_time, before=True),
    "is_after_time": _order(_time, before=False),
    "is_before_date": _order(_date, before=True),
    "is_after_date": _order(_date, before=False),
    "less_than_or_equal_to": _compare(lambda a, b: a <= b),
    "greater_than_or_equal_to": _compare(lambda a, b: a >= b),
}
_NO_VALUE = {"is_blank", "is_not_blank"}

# One test: (its own input template or None for the split's, operator, value template).
Test = tuple[str | None, str, str]


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
        source = raw.get("input", "")
        if not isinstance(source, str):
            ctx.problem(f"{path}.input", 'expected a template such as "{{answers.q1}}"', name)
            source = ""
        elif source:
            ctx.template(source, f"{path}.input", name)
        conditions: list[tuple[str | None, tuple[Test, ...]]] = []
        transitions: list[Transition] = []
        raw_conditions = raw.get("conditions")
        if not isinstance(raw_conditions, list) or not raw_conditions:
            ctx.problem(f"{path}.conditions", "expected a non-empty list of conditions", name)
            raw_conditions = []
        for i, condition in enumerate(raw_conditions):
            cpath = f"{path}.conditions[{i}]"
            if not isinstance(condition, dict):
                ctx.problem(cpath, 'expected {"op": ..., "value": ..., "next": ...}', name)
                continue
            compiled = self._condition(condition, cpath, bool(source), ctx, name)
            if compiled is None:
                continue
            if "next" not in condition:
                ctx.problem(f"{cpath}.next", "missing: where does this condition lead?", name)
                continue
            label = condition.get("name")
            conditions.append((label if isinstance(label, str) and label else None, compiled))
            transitions.append(ctx.transition(f"{MATCH_PREFIX}{len(conditions) - 1}",
                                              condition["next"], f"{cpath}.next", name))
        transitions.append(ctx.transition("noMatch", raw.get("else", following),
                                          f"{path}.else", name))
        return {"input": source, "conditions": tuple(conditions)}, transitions

    def _condition(self, raw: dict[str, Any], path: str, has_input: bool, ctx: CompileContext,
                   name: str | None) -> tuple[Test, ...] | None:
        if "all" in raw:
            if set(raw) - {"all", "next", "name", "note"}:
                ctx.problem(path, 'a condition with "all" takes only all, next and name', name)
                return None
            tests = raw["all"]
            if not isinstance(tests, list) or not tests:
                ctx.problem(f"{path}.all", "expected a non-empty list of tests", name)
                return None
            compiled = [self._test(t, f"{path}.all[{j}]", has_input, ctx, name, nested=True)
                        for j, t in enumerate(tests)]
            return None if None in compiled else tuple(t for t in compiled if t)
        test = self._test(raw, path, has_input, ctx, name, nested=False)
        return None if test is None else (test,)

    def _test(self, raw: Any, path: str, has_input: bool, ctx: CompileContext,
              name: str | None, nested: bool) -> Test | None:
        allowed = {"op", "value", "input", "note"} | (set() if nested else {"next", "name"})
        if not isinstance(raw, dict) or set(raw) - allowed:
            ctx.problem(path, 'expected {"op": ..., "value": ...'
                        + ("}" if nested else ', "next": ...}'), name)
            return None
        op = raw.get("op")
        if op not in OPERATORS:
            ctx.problem(f"{path}.op", (f"unknown operator {op!r}" if op is not None else
                                       "missing operator") + "; known: " + ", ".join(OPERATORS),
                        name)
            return None
        value = raw.get("value", "")
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            ctx.problem(f"{path}.value", f"expected a string or number, got {shown(value)}", name)
            return None
        if op not in _NO_VALUE and "value" not in raw:
            ctx.problem(f"{path}.value", f"missing: what does {op} compare with?", name)
            return None
        templated = "{{" in value or "{%" in value
        if templated:
            ctx.template(value, f"{path}.value", name)
        elif op == "regex":
            try:
                re.compile(value)
            except re.error as exc:
                ctx.problem(f"{path}.value", f"bad regular expression: {exc}", name)
                return None
        own = raw.get("input")
        if own is not None and (not isinstance(own, str) or not own):
            ctx.problem(f"{path}.input", 'expected a template such as "{{answers.q1}}"', name)
            return None
        if own:
            ctx.template(own, f"{path}.input", name)
        elif not has_input:
            ctx.problem(f"{path}.input", "missing: give the split an input, or each test its "
                        "own", name)
            return None
        return (own or None, op, value)

    def step(self, state: State, render: Render, settings: Settings) -> Step:
        default = render(state.props["input"]).strip() if state.props["input"] else ""
        for index, (label, tests) in enumerate(state.props["conditions"]):
            if all(_holds(test, default, render) for test in tests):
                note = {"state": state.name, "condition": index}
                if label:
                    note["name"] = label
                return Step(f"{MATCH_PREFIX}{index}", note=note)
        return Step("noMatch", note={"state": state.name, "condition": None})

    def route(self, state: State, actual: str) -> str:
        return self.step(state, lambda text: actual if text == state.props["input"] else text,
                         Settings()).event


def _holds(test: Test, default: str, render: Render) -> bool:
    own, op, value = test
    actual = render(own).strip() if own else default
    expected = render(value) if ("{{" in value or "{%" in value) else value
    try:
        return OPERATORS[op](actual, expected)
    except re.error:  # a templated regular expression that renders badly never matches
        return False


def negate(op: str) -> str | None:
    """The operator that holds exactly when ``op`` does not, where there is one (for
    XLSForm's not(...) and skip logic)."""
    return _NEGATIONS.get(op)


_PAIRS = [("equal_to", "not_equal_to"), ("matches_any_of", "does_not_match_any_of"),
          ("is_blank", "is_not_blank"), ("contains", "does_not_contain"),
          ("starts_with", "does_not_start_with"),
          # numbers only: a blank answer satisfies neither side
          ("greater_than", "less_than_or_equal_to"), ("less_than", "greater_than_or_equal_to")]
_NEGATIONS = {a: b for a, b in _PAIRS} | {b: a for a, b in _PAIRS}


KIND = Split()
