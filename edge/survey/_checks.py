"""Whole-graph checks: transitions to missing states, states nothing reaches, key clashes,
states from which the call can never end."""

from __future__ import annotations

from collections import deque

from ._model import Survey
from ._problems import Problem, suggestion
from .nodes import KINDS


def check_graph(survey: Survey) -> list[Problem]:
    problems: list[Problem] = []
    states = survey.states
    for state in states.values():
        for transition in state.transitions:
            if transition.next is not None and transition.next not in states:
                problems.append(Problem(
                    transition.path or state.path, f"{transition.next!r} does not exist"
                    + suggestion(transition.next, states), state.name))
        opt_out = survey.settings.opt_out_key
        kind = KINDS[state.kind]
        if opt_out and opt_out in kind.keys_used(state):
            problems.append(Problem(
                state.path, f"key {opt_out!r} is the survey's opt-out key and cannot be an "
                "answer here", state.name))
        finish = state.props.get("finish_key", "")
        if state.kind in ("number", "digits") and finish and finish == opt_out:
            problems.append(Problem(f"{state.path}.finish_key",
                                    f"finish key {finish!r} is also the opt-out key", state.name))

    reachable = _reachable(survey)
    for state in states.values():
        if state.name not in reachable:
            problems.append(Problem(state.path, "no path from the start reaches this state",
                                    state.name))
    ends = _can_end(survey)
    for state in states.values():
        if state.name in reachable and state.name not in ends:
            problems.append(Problem(state.path, "the call can never end from here (a loop with "
                                    "no way out)", state.name))
    return problems


def _edges(survey: Survey, name: str) -> list[str | None]:
    return [t.next for t in survey.states[name].transitions]


def _reachable(survey: Survey) -> set[str]:
    seen = {survey.initial_state}
    queue = deque([survey.initial_state])
    while queue:
        for target in _edges(survey, queue.popleft()):
            if target in survey.states and target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


def _can_end(survey: Survey) -> set[str]:
    """States with some path to an end (a transition to None). Gather states can always end
    by silence, unless a timeout transition leads on, so only their transitions count."""
    ending = {
        s.name for s in survey.states.values()
        if any(t.next is None for t in s.transitions)
        or (KINDS[s.kind].behaviour == "gather" and not s.target("timeout")[0])
    }
    changed = True
    while changed:
        changed = False
        for state in survey.states.values():
            if state.name not in ending and any(t.next in ending for t in state.transitions):
                ending.add(state.name)
                changed = True
    return ending
