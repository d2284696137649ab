"""Import an exported Twilio Studio flow (Voice) as an edgecall survey.

Studio's flow definition is already a graph of states with ``transitions`` of event -> next;
this maps its voice widgets onto edgecall's node kinds:

- ``trigger``: its ``incomingCall`` transition names the first state;
- ``gather-input-on-call`` followed (on ``keypress``) by a ``split-based-on`` over
  ``{{widgets.<gather>.Digits}}`` with ``equal_to`` conditions -> ``choice`` (each condition an
  option with its own next; ``noMatch`` back to the gather = the usual retry, elsewhere =
  ``on_invalid``); any other gather -> ``number`` (``number_of_digits``, ``finish_on_key``);
  ``timeout`` -> ``on_timeout``; ``loop`` -> ``max_attempts``;
- ``say-play`` -> ``say``, or ``end`` when nothing follows;
- ``split-based-on`` -> ``split`` (same operator names);
- ``set-variables`` is passed through.

Widgets that need the cloud (make-http-request, run-function, connect-call-to, send-to-flex,
send-message, record-voicemail, ...) and events Studio does not have (hand-written flows often
use ``noInput`` or ``num_digits``) are refused with the state and the reason.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ._problems import Problem

SCHEMA = "https://schemas.twilio.com/studio/draft/2019-09/flow-definition"

EVENTS = {
    "trigger": {"incomingMessage", "incomingCall", "incomingConversationMessage",
                "incomingRequest", "incomingParent"},
    "gather-input-on-call": {"keypress", "speech", "timeout"},
    "say-play": {"audioComplete"},
    "split-based-on": {"noMatch", "match"},
    "set-variables": {"next"},
}
CLOUD_ONLY = {"make-http-request", "run-function", "connect-call-to", "send-to-flex",
              "send-message", "send-and-wait-for-reply", "record-voicemail", "enqueue-call",
              "capture-payments", "fork-stream", "add-twiml-redirect", "run-subflow",
              "connect-virtual-agent", "record-call"}
OPERATORS = {"equal_to", "not_equal_to", "greater_than", "less_than", "matches_any_of",
             "does_not_match_any_of", "contains", "starts_with", "is_blank", "is_not_blank",
             "regex"}


class StudioImportError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def _next(state: dict[str, Any], event: str) -> str | None:
    for transition in state.get("transitions", []):
        if transition.get("event") == event:
            return transition.get("next") or None
    return None


def _language(code: str | None, default: str) -> str:
    return (code or default).split("-")[0].lower() or default


def import_flow(flow: Any, default_language: str = "en",
                survey_id: str = "studio-flow") -> dict[str, Any]:
    """Studio flow JSON (parsed) -> edgecall authoring JSON (a dict). Raises
    StudioImportError listing every widget or event that cannot be mapped."""
    problems: list[Problem] = []
    if not isinstance(flow, dict) or not isinstance(flow.get("states"), list):
        raise StudioImportError([Problem("$", "not a Studio flow definition: no 'states' list")])
    states = {s.get("name"): s for s in flow["states"] if isinstance(s, dict)}
    for i, state in enumerate(flow["states"]):
        kind, name = state.get("type"), state.get("name")
        path = f"$.states[{i}]"
        if kind in CLOUD_ONLY:
            problems.append(Problem(path, f"widget {kind!r} needs Twilio's cloud and cannot run "
                                    "on the box", name))
        elif kind not in EVENTS:
            problems.append(Problem(path, f"unknown widget type {kind!r}", name))
            continue
        for j, transition in enumerate(state.get("transitions", [])):
            event = transition.get("event")
            if kind in EVENTS and event not in EVENTS[kind]:
                problems.append(Problem(f"{path}.transitions[{j}].event",
                                        f"{event!r} is not an event of {kind}; it has "
                                        + ", ".join(sorted(EVENTS[kind])), name))
            target = transition.get("next")
            if target and target not in states:
                problems.append(Problem(f"{path}.transitions[{j}].next",
                                        f"goes to missing state {target!r}", name))
    trigger = next((s for s in states.values() if s.get("type") == "trigger"), None)
    start = _next(trigger, "incomingCall") if trigger else flow.get("initial_state")
    if not start:
        problems.append(Problem("$", "the trigger has no incomingCall transition: not a voice "
                                "flow"))
    if problems:
        raise StudioImportError(problems)

    languages: set[str] = set()
    consumed: set[str] = set()  # splits folded into the gather before them
    out_states: list[dict[str, Any]] = []
    for name, state in states.items():
        kind = state["type"]
        props = state.get("properties", {})
        if kind == "trigger" or name in consumed:
            continue
        language = _language(props.get("language"), default_language)
        if kind == "gather-input-on-call":
            languages.add(language)
            out_states.append(_gather(name, state, states, consumed, language))
        elif kind == "say-play":
            languages.add(language)
            out_states.append(_say(name, state, language))
        elif kind == "split-based-on":
            out_states.append(_split(name, state))
    # set-variables keeps nothing the box needs (answers are the variables): route through it.
    aliases = {n: _next(s, "next") for n, s in states.items() if s["type"] == "set-variables"}
    for entry in out_states:
        _reroute(entry, aliases)
    start = _resolve(start, aliases)
    languages = languages or {default_language}
    ordered = [start] + [s["name"] for s in out_states if s["name"] != start]
    by_name = {s["name"]: s for s in out_states}
    result = {
        "id": survey_id,
        "version": "1",
        "title": flow.get("description") or survey_id,
        "languages": sorted(languages),
        "default_language": default_language if default_language in languages
        else sorted(languages)[0],
        "start": start,
        "states": [by_name[n] for n in ordered if n in by_name],
        "note": "imported from a Twilio Studio flow",
    }
    # Prompts are in one language per widget: give every prompt every language it lacks,
    # so the survey checks; translate them before use.
    for entry in result["states"]:
        prompt = entry.get("prompt")
        if prompt:
            text = next(iter(prompt.values()))
            for lang in result["languages"]:
                prompt.setdefault(lang, text)
    return result


def _resolve(target: str | None, aliases: dict[str, str | None]) -> str | None:
    seen: set[str] = set()
    while target in aliases and target not in seen:
        seen.add(target)
        target = aliases[target]
    return target


def _reroute(entry: dict[str, Any], aliases: dict[str, str | None]) -> None:
    for key in ("next", "on_timeout", "on_invalid", "else"):
        if key in entry:
            entry[key] = _resolve(entry[key], aliases)
    for item in entry.get("options", []) + entry.get("conditions", []):
        if "next" in item:
            item["next"] = _resolve(item["next"], aliases)


def _prompt(props: dict[str, Any], language: str) -> dict[str, Any]:
    if props.get("play"):
        # Studio plays a URL; offline the recording must be on the box, named after it.
        audio = "audio/" + Path(str(props["play"]).split("?")[0]).name
        return {language: {"text": props.get("say") or "", "audio": audio}}
    return {language: props.get("say") or ""}


def _say(name: str, state: dict[str, Any], language: str) -> dict[str, Any]:
    target = _next(state, "audioComplete")
    prompt = _prompt(state.get("properties", {}), language)
    if target is None:
        return {"name": name, "type": "end", "prompt": prompt}
    return {"name": name, "type": "say", "prompt": prompt, "next": target}


_DIGITS = re.compile(r"^\{\{\s*widgets\.([\w-]+)\.Digits\s*\}\}$")


def _gather(name: str, state: dict[str, Any], states: dict[str, dict[str, Any]],
            consumed: set[str], language: str) -> dict[str, Any]:
    props = state.get("properties", {})
    entry: dict[str, Any] = {"name": name, "prompt": _prompt(props, language)}
    if "timeout" in props:
        entry["timeout"] = max(1, min(60, int(props["timeout"])))
    if "loop" in props:
        entry["max_attempts"] = max(1, min(10, int(props["loop"])))
    if _next(state, "timeout"):
        entry["on_timeout"] = _next(state, "timeout")
    keypress = _next(state, "keypress")
    split = states.get(keypress) if keypress else None
    source = (split or {}).get("properties", {}).get("input", "")
    match = _DIGITS.match(source.strip()) if split else None
    conditions = (split or {}).get("transitions", [])
    if (split and split.get("type") == "split-based-on" and match and match.group(1) == name
            and all(t.get("event") == "noMatch" or _equal_digit(t) for t in conditions)):
        consumed.add(split["name"])
        options = []
        for transition in conditions:
            if transition.get("event") != "match":
                continue
            condition = transition["conditions"][0]
            options.append({"key": str(condition["value"]).strip(),
                            "value": _slug(condition.get("friendly_name")
                                           or str(condition["value"])),
                            "next": transition.get("next")})
        entry.update(type="choice", options=options)
        no_match = _next(split, "noMatch")
        if no_match and no_match != name:
            entry["on_invalid"] = no_match
        entry["next"] = None
        return entry
    digits = int(props.get("number_of_digits") or 4)
    entry.update(type="number", min=0, max=10 ** digits - 1, max_digits=digits,
                 finish_key=props.get("finish_on_key", "#"), next=keypress)
    return entry


def _equal_digit(transition: dict[str, Any]) -> bool:
    conditions = transition.get("conditions") or []
    return (len(conditions) == 1 and conditions[0].get("type") == "equal_to"
            and len(str(conditions[0].get("value", "")).strip()) == 1)


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return slug or "option"


def _split(name: str, state: dict[str, Any]) -> dict[str, Any]:
    props = state.get("properties", {})
    conditions = []
    for transition in state.get("transitions", []):
        if transition.get("event") != "match":
            continue
        condition = (transition.get("conditions") or [{}])[0]
        op = condition.get("type")
        conditions.append({"op": op if op in OPERATORS else f"unsupported:{op}",
                           "value": str(condition.get("value", "")),
                           "next": transition.get("next")})
    return {"name": name, "type": "split", "input": props.get("input", ""),
            "conditions": conditions, "else": _next(state, "noMatch")}


def import_file(path: Path, default_language: str = "en") -> dict[str, Any]:
    try:
        flow = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise StudioImportError([Problem("$", f"cannot read {path}: {exc}")]) from exc
    return import_flow(flow, default_language, survey_id=_slug(path.stem).replace("_", "-"))
