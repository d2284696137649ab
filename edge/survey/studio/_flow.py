"""A Studio flow (its exported JSON) -> edgecall authoring JSON, widget by widget."""

from __future__ import annotations

import re
from typing import Any

from edge.survey._compile import DEFAULT_MESSAGES
from edge.survey._model import MESSAGE_NAMES
from edge.survey._problems import Problem, suggestion

from ._context import QUEUEABLE, FlowContext, ImportOptions, next_of, primary
from .widgets import WIDGETS

# The widgets that need Twilio's cloud (what --strict refuses). record-voicemail and
# connect-call-to run on the box's own line (record, transfer) and are kept.
CLOUD_KINDS = {"http", "message", "cloud"}
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}([-_][A-Za-z0-9]{2,8})?$")
_VARIABLE = re.compile(r"\{\{\s*flow\.variables\.(\w+)")


class StudioImportError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class Imported:
    """The survey (authoring JSON), files to write beside it (generated audio), and warnings."""

    def __init__(self, survey: dict[str, Any], files: dict[str, bytes],
                 warnings: list[Problem]) -> None:
        self.survey, self.files, self.warnings = survey, files, warnings


def import_flow(flow: Any, options: ImportOptions | None = None,
                survey_id: str = "studio-flow") -> Imported:
    """Raises StudioImportError listing every widget or event that cannot be mapped."""
    options = options or ImportOptions()
    if not isinstance(flow, dict) or not isinstance(flow.get("states"), list):
        raise StudioImportError([Problem("$", "not a Studio flow definition: no 'states' list")])
    states = {s.get("name"): s for s in flow["states"] if isinstance(s, dict)}
    ctx = FlowContext(states, options)
    ctx.paths = {s.get("name"): f"$.states[{i}]" for i, s in enumerate(flow["states"])
                 if isinstance(s, dict)}
    _check_events(flow["states"], states, ctx)
    trigger = next((s for s in states.values() if s.get("type") == "trigger"), None)
    start = next_of(trigger, "incomingCall") if trigger else flow.get("initial_state")
    if not start:
        ctx.problems.append(Problem("$", "the trigger has no incomingCall transition: not a "
                                    "voice flow"))
    _raise_errors(ctx)
    out: list[dict[str, Any]] = []
    for name, state in states.items():  # gathers first take the splits they fold in
        if state.get("type") == "gather-input-on-call":
            out += WIDGETS[state["type"]][1].convert(name, state, ctx)
    for name, state in states.items():
        kind = state.get("type")
        if kind != "gather-input-on-call" and name not in ctx.consumed:
            out += WIDGETS[kind][1].convert(name, state, ctx)
    if options.strict:
        for entry in out:
            if entry["type"] in CLOUD_KINDS:
                widget = states[entry["name"]]["type"]
                ctx.problem(entry["name"], f"--strict: {widget} needs Twilio's cloud (without "
                            "--strict it takes its offline path on the box)")
    _raise_errors(ctx)
    _language_variables(out, ctx)
    languages = sorted(ctx.languages or {primary(options.default_language)})
    default = primary(options.default_language)
    default = default if default in languages else languages[0]
    order = {n: i for i, n in enumerate(states)}
    out.sort(key=lambda e: (e["name"] != start, order.get(e["name"], 0)))
    out = [{"name": e["name"], "type": e["type"], **e} for e in out]  # readable key order
    survey: dict[str, Any] = {
        "id": survey_id,
        "version": "1",
        "title": flow.get("description") or survey_id,
        "note": "imported from a Twilio Studio flow; each state speaks its widget's language",
        "languages": [default] + [lang for lang in languages if lang != default],
        "default_language": default,
        "start": start,
        # Studio has no opt-out key: a star stays a key the flow may read.
        "settings": {"opt_out_key": ""},
        "states": out,
    }
    others = [lang for lang in languages if lang != "en"]
    if others:  # the box's own messages (sorry, goodbye...) in every language: translate them
        survey["messages"] = {m: {lang: DEFAULT_MESSAGES[m] for lang in others}
                              for m in MESSAGE_NAMES}
        ctx.problems.append(Problem("$.messages", "the box's messages were copied in English "
                                    f"for {', '.join(others)}: translate them", None,
                                    "warning"))
    return Imported(survey, ctx.files, ctx.problems)


def _check_events(raw_states: list[Any], states: dict[str, Any], ctx: FlowContext) -> None:
    for i, state in enumerate(raw_states):
        path = f"$.states[{i}]"
        if not isinstance(state, dict):
            ctx.problems.append(Problem(path, "expected a widget object"))
            continue
        kind, name = state.get("type"), state.get("name")
        if kind not in WIDGETS:
            ctx.problems.append(Problem(f"{path}.type", f"unknown widget type {kind!r}"
                                        + suggestion(kind, WIDGETS), name))
            continue
        events = WIDGETS[kind][0]
        for j, transition in enumerate(state.get("transitions", [])):
            event = transition.get("event")
            if event not in events:
                ctx.problems.append(Problem(
                    f"{path}.transitions[{j}].event", f"{event!r} is not an event of {kind}; "
                    "it has " + ", ".join(sorted(events)), name))
            target = transition.get("next")
            if target and target not in states:
                ctx.problems.append(Problem(
                    f"{path}.transitions[{j}].next", f"{target!r} does not exist"
                    + suggestion(target, [n for n in states if isinstance(n, str)]), name))


def _raise_errors(ctx: FlowContext) -> None:
    errors = [p for p in ctx.problems if p.severity == "error"]
    if errors:
        raise StudioImportError(errors)


def _language_variables(out: list[dict[str, Any]], ctx: FlowContext) -> None:
    """A widget speaking ``{{flow.variables.lang}}``: the languages that variable is set to are
    languages of the survey."""
    used = {m.group(1) for e in out for m in [_VARIABLE.search(str(e.get("language", "")))] if m}
    for entry in out:
        if entry["type"] != "set":
            continue
        for variable in entry["variables"]:
            value = variable["value"]
            if variable["key"] in used and _LANGUAGE_CODE.match(value):
                ctx.languages.add(primary(value))


def offline_option(text: str) -> tuple[str, str]:
    """``make-http-request=queue`` -> (widget, policy), for the command line."""
    widget, _, policy = text.partition("=")
    if widget not in QUEUEABLE or policy not in ("fail", "queue"):
        raise ValueError(f"expected WIDGET=fail|queue with WIDGET one of "
                         f"{', '.join(QUEUEABLE)}, got {text!r}")
    return widget, policy
