"""Authoring JSON -> the survey graph, collecting every problem with its JSON path.

The authoring format is a list of states; ``next`` defaults to the following state, so a linear
survey needs no wiring. See docs/surveys.md for the format and its mapping to Twilio Studio.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ._checks import check_graph
from ._model import MESSAGE_NAMES, PromptText, Settings, State, Survey
from ._problems import Problem, SurveyError, shown, suggestion
from .nodes import KINDS, CompileContext
from .nodes._base import COMMON_KEYS
from .nodes.end import END_DISPOSITIONS

TOP_KEYS = {"$schema", "id", "version", "title", "languages", "default_language", "settings",
            "messages", "start", "states", "note", "data"}

# English wording used when a survey gives none; other languages must be written by the author.
DEFAULT_MESSAGES = {
    "sorry": "Sorry, that key is not one of the choices.",
    "no_input": "We did not hear an answer. Goodbye.",
    "refused": "You chose to stop. Thank you, goodbye.",
    "busy": "All lines are busy. Please call again later.",
    "error": "Sorry, something went wrong. Please call again later.",
}


def load_survey(path: Path | str) -> Survey:
    """Read and compile a survey file; SurveyError lists the problems if it has errors."""
    survey, problems = compile_file(Path(path))
    if survey is None or any(p.severity == "error" for p in problems):
        raise SurveyError(str(path), problems)
    return survey


def compile_file(path: Path) -> tuple[Survey | None, list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, [Problem("$", f"cannot read {path}: {exc.strerror or exc}")]
    except UnicodeDecodeError as exc:
        return None, [Problem("$", f"not UTF-8 text: {exc}")]
    if not text.strip():
        return None, [Problem("$", "file is empty: a survey is a JSON object with id, version, "
                              "languages and states ('edgecall survey new' writes one)")]
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [Problem("$", f"not valid JSON: line {exc.lineno} column {exc.colno}: "
                                   f"{exc.msg}")]
    return compile_survey(raw, path.parent, path)


def _settings(raw: Any, problems: list[Problem]) -> Settings:
    defaults = Settings()
    if raw is None:
        return defaults
    if not isinstance(raw, dict):
        problems.append(Problem("$.settings", f"expected an object, got {shown(raw)}"))
        return defaults
    values: dict[str, Any] = {}
    spec = {
        "timeout": ("timeout_s", lambda v: isinstance(v, int | float) and 1 <= v <= 60,
                    "seconds from 1 to 60"),
        "finish_key": ("finish_key", lambda v: v in ("", "#", "*"), '"#", "*" or ""'),
        "max_attempts": ("max_attempts", lambda v: isinstance(v, int) and 1 <= v <= 10,
                         "a whole number from 1 to 10"),
        "opt_out_key": ("opt_out_key", lambda v: v in ("", "*", "#", "0", "9"),
                        '"*", "#", "0", "9" or "" (none)'),
        "partial_min_answers": ("partial_min_answers",
                                lambda v: isinstance(v, int) and 0 <= v <= 1000,
                                "a whole number >= 0"),
        "barge_in": ("barge_in", lambda v: isinstance(v, bool), "true or false"),
        "end_disposition": ("end_disposition", lambda v: v in END_DISPOSITIONS,
                            " or ".join(repr(d) for d in END_DISPOSITIONS)),
        "max_visits": ("max_visits", lambda v: isinstance(v, int) and 1 <= v <= 100,
                       "a whole number from 1 to 100"),
        "offline": ("offline", _offline_ok, 'an object such as {"http": "queue", "message": '
                    '"fail", "connect": "transfer"} (http and message: "fail" or "queue"; '
                    'connect: "transfer" or "fail")'),
        "tts": ("tts", _tts_ok, 'true, false, or an object of language -> true/false, e.g. '
                '{"en": true, "sw": false}'),
    }
    for key, value in raw.items():
        if key == "note":  # the author's comment
            continue
        if key not in spec:
            problems.append(Problem(f"$.settings.{key}", "unknown setting; known: "
                                    + ", ".join(spec) + suggestion(key, spec)))
            continue
        field, ok, expected = spec[key]
        if (isinstance(value, bool) and key not in ("barge_in", "tts")) or not ok(value):
            problems.append(Problem(f"$.settings.{key}",
                                    f"got {shown(value)}, expected {expected}"))
            continue
        if field == "offline":
            value = {**defaults.offline, **value}
        values[field] = float(value) if field == "timeout_s" else value
    return Settings(**{**defaults.__dict__, **values}) if values else defaults


def _tts_ok(value: Any) -> bool:
    return isinstance(value, bool) or (isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, bool) for k, v in value.items()))


_OFFLINE_CHOICES = {"http": ("fail", "queue"), "message": ("fail", "queue"),
                    "connect": ("transfer", "fail")}


def _offline_ok(value: Any) -> bool:
    return isinstance(value, dict) and all(
        v in _OFFLINE_CHOICES.get(k, ()) for k, v in value.items())


def compile_survey(raw: Any, base_dir: Path | None,
                   source: Path | None = None) -> tuple[Survey | None, list[Problem]]:
    problems: list[Problem] = []
    if not isinstance(raw, dict):
        return None, [Problem("$", "expected a JSON object with id, version, languages, states")]
    for key in raw:
        if key not in TOP_KEYS:
            problems.append(Problem(f"$.{key}",
                                    "unknown key; known: " + ", ".join(sorted(TOP_KEYS))))
    for key in ("id", "version"):
        if not isinstance(raw.get(key), str) or not raw.get(key):
            problems.append(Problem(f"$.{key}", "missing: a non-empty string" if key not in raw
                                    else f"expected a non-empty string, got {shown(raw[key])}"))
    languages = raw.get("languages")
    if (not isinstance(languages, list) or not languages
            or not all(isinstance(x, str) and x for x in languages)):
        problems.append(Problem("$.languages", 'expected a list of language codes, e.g. ["en"]'))
        languages = ["en"]
    elif len(set(languages)) != len(languages):
        problems.append(Problem("$.languages", "a language is listed twice"))
    default_language = raw.get("default_language", languages[0])
    if default_language not in languages:
        problems.append(Problem("$.default_language",
                                f"{default_language!r} is not in languages {languages}"))
        default_language = languages[0]
    settings = _settings(raw.get("settings"), problems)
    if isinstance(settings.tts, dict):
        for language in settings.tts:
            if language not in languages:
                problems.append(Problem(f"$.settings.tts.{language}", f"language {language!r} "
                                        f"is not declared in 'languages' {languages}"))
    data = raw.get("data", {})
    if not isinstance(data, dict):
        problems.append(Problem("$.data", "expected an object of constants ({{flow.data.x}})"))
        data = {}
    ctx = CompileContext(tuple(languages), base_dir, settings, problems)
    messages = _messages(raw.get("messages"), ctx)
    states = _states(raw.get("states"), ctx)
    start = raw.get("start", next(iter(states), None))
    if not isinstance(start, str) or start not in states:
        if states:
            problems.append(Problem("$.start", f"start state {start!r} does not exist"))
        start = next(iter(states), "")
    survey = Survey(
        id=str(raw.get("id") or ""),
        version=str(raw.get("version") or ""),
        title=str(raw.get("title") or raw.get("id") or ""),
        languages=tuple(languages),
        default_language=default_language,
        initial_state=start,
        states=states,
        settings=settings,
        messages=messages,
        source=source,
        templates=dict(ctx.templates),
        data=data,
    )
    if states:
        problems.extend(check_graph(survey))
    return survey, problems


def _messages(raw: Any, ctx: CompileContext) -> dict[str, dict[str, PromptText]]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        ctx.problem("$.messages", f"expected an object, got {shown(raw)}")
        raw = {}
    for name in raw:
        if name not in MESSAGE_NAMES and name != "note":
            ctx.problem(f"$.messages.{name}", "unknown message; known: " + ", ".join(MESSAGE_NAMES))
    messages: dict[str, dict[str, PromptText]] = {}
    for name in MESSAGE_NAMES:
        given = dict(raw.get(name) or {}) if isinstance(raw.get(name) or {}, dict) else None
        if given is None:
            ctx.problem(f"$.messages.{name}", "expected an object of language -> prompt")
            continue
        if "en" in ctx.languages and "en" not in given:
            given["en"] = DEFAULT_MESSAGES[name]
        prompt = ctx.prompt(given, f"$.messages.{name}", None)
        messages[name] = dict(prompt or {})
    return messages


def _states(raw: Any, ctx: CompileContext) -> dict[str, State]:
    if not isinstance(raw, list) or not raw:
        ctx.problem("$.states", "expected a non-empty list of states")
        return {}
    names: list[str | None] = []
    for entry in raw:
        name = entry.get("name") if isinstance(entry, dict) else None
        names.append(name if isinstance(name, str) and name else None)
    states: dict[str, State] = {}
    for i, entry in enumerate(raw):
        path = f"$.states[{i}]"
        if not isinstance(entry, dict):
            ctx.problem(path, f"expected an object, got {shown(entry)}")
            continue
        name = names[i]
        if name is None:
            ctx.problem(f"{path}.name", "missing: every state needs a name" if "name" not in entry
                        else f"expected a non-empty string, got {shown(entry['name'])}")
            continue
        if name in states:
            ctx.problem(f"{path}.name", f"state name {name!r} is used twice", name)
            continue
        kind = KINDS.get(entry.get("type"))
        if kind is None:
            ctx.problem(f"{path}.type", (f"unknown type {entry['type']!r}" if "type" in entry
                                         else "missing type") + "; known: " + ", ".join(KINDS)
                        + suggestion(entry.get("type"), KINDS), name)
            continue
        for key in entry:
            if key not in COMMON_KEYS and key not in kind.keys:
                ctx.problem(f"{path}.{key}", f"unknown key for a {kind.name} state; known: "
                            + ", ".join(sorted(COMMON_KEYS | kind.keys)), name)
        following = next((n for n in names[i + 1:] if n), None)
        props, transitions = kind.compile(entry, path, following, ctx)
        speaks = _state_language(entry, path, name, ctx)
        prompt = None
        if kind.prompt_required or (kind.prompt_allowed and "prompt" in entry):
            # A state with its own language needs a prompt in that language only (a template:
            # in at least one, the rendered language falling back to the default).
            needed = None if speaks is None else ((speaks,) if speaks in ctx.languages else ())
            prompt = ctx.prompt(entry.get("prompt"), f"{path}.prompt", name,
                                languages=needed)
        if speaks is not None and (kind.prompt_required or kind.prompt_allowed):
            props = {**props, "language": speaks}
        elif speaks is not None:
            ctx.problem(f"{path}.language", f"a {kind.name} state says nothing: it has no "
                        "language", name)
        states[name] = State(name, kind.name, prompt, tuple(transitions), props, path)
    return states


def _state_language(entry: dict[str, Any], path: str, name: str,
                    ctx: CompileContext) -> str | None:
    if "language" not in entry:
        return None
    value = entry["language"]
    if not isinstance(value, str) or not value:
        ctx.problem(f"{path}.language", 'expected a language code or a template such as '
                    '"{{flow.variables.lang}}"', name)
        return None
    if "{{" in value or "{%" in value:
        ctx.template(value, f"{path}.language", name)
        return value
    if value not in ctx.languages:
        ctx.problem(f"{path}.language", f"language {value!r} is not declared in 'languages' "
                    f"{list(ctx.languages)}", name)
        return None
    return value
