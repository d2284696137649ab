"""XLSForm rows -> edgecall authoring JSON.

Each question keeps its XLSForm ``name`` (the state's name, so answers and exports carry the
field names Kobo/ODK users know) and choices keep their ``name`` (the stored value).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edge.survey._compile import DEFAULT_MESSAGES
from edge.survey._model import MESSAGE_NAMES
from edge.survey._problems import Problem

from ._expressions import ExpressionError, number_range, skip_logic
from ._sheets import Row, language_code

# Types that carry no question on a phone (metadata ODK fills in itself): left out.
METADATA = {"start", "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber",
            "username", "email", "audit", "start-geopoint", "imei", "uri:deviceid"}
# Types a caller cannot key.
UNKEYABLE = {"text": "free text", "geopoint": "a location", "geotrace": "a line on a map",
             "geoshape": "a shape on a map", "image": "a photo", "audio": "a recording",
             "video": "a video", "file": "a file", "barcode": "a barcode", "date": "a date",
             "time": "a time", "datetime": "a date and time", "range": "a slider",
             "rank": "a ranking", "background-audio": "background audio",
             "xml-external": "external data", "csv-external": "external data",
             "hidden": "a hidden value", "begin repeat": "repeated groups",
             "begin_repeat": "repeated groups", "select_one_from_file": "choices from a file",
             "select_multiple_from_file": "choices from a file"}
MAX_CHOICES = 9
_GOODBYE = {"en": "Thank you. Goodbye.", "fr": "Merci. Au revoir.", "es": "Gracias. Adiós.",
            "ar": "شكرًا. مع السلامة.", "sw": "Asante. Kwaheri.", "pt": "Obrigado. Adeus."}


class XlsFormError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


@dataclass
class _Form:
    languages: list[str]  # declared, default first
    default: str
    choices: dict[str, list[Row]]
    multiple: set[str]  # names of select_multiple questions
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    states: list[dict[str, Any]] = field(default_factory=list)
    copied: set[int] = field(default_factory=set)  # rows whose text was copied across languages

    def error(self, row: Row | None, message: str, sheet: str = "survey") -> None:
        where = f"{sheet} row {row.number}" if row else sheet
        self.problems.append(Problem(where, message, row.get("name") or None if row else None))


def convert(sheets: dict[str, list[Row]], stem: str) -> tuple[dict[str, Any], list[Problem]]:
    survey_rows = sheets.get("survey")
    if not survey_rows:
        raise XlsFormError([Problem("survey", "the workbook has no 'survey' sheet (or it is "
                                    "empty)")])
    settings = (sheets.get("settings") or [None])[0]
    columns = {c for r in survey_rows for c in r.values} | {
        c for r in sheets.get("choices", []) for c in r.values}
    languages, names = _languages(columns, settings)
    choices: dict[str, list[Row]] = {}
    for row in sheets.get("choices", []):
        if row.get("list_name"):
            choices.setdefault(row.get("list_name"), []).append(row)
    multiple = {r.get("name") for r in survey_rows
                if r.get("type").split(" ")[0].lower() == "select_multiple"}
    form = _Form(languages, languages[0], choices, multiple)
    if len(languages) > 1:  # the caller picks one first, each named as the form names it
        taken = {r.get("name") for r in survey_rows}
        form.states.append({
            "name": "language" if "language" not in taken else "choose_language",
            "type": "language", "options": {str(k): lang for k, lang in
                                            enumerate(languages, start=1)},
            "prompt": {lang: f"{names.get(lang, lang)}: {k}." for k, lang in
                       enumerate(languages, start=1)}})
    _rows(survey_rows, form)
    if form.problems:
        raise XlsFormError(form.problems)
    _close(form)
    _resolve(form)
    survey: dict[str, Any] = {
        "id": (settings.get("form_id") if settings else "") or stem,
        "version": (settings.get("version") if settings else "") or "1",
        "title": (settings.get("form_title") if settings else "") or stem,
        "note": "imported from an XLSForm; answers carry its field names",
        "languages": languages,
        "default_language": form.default,
        "states": form.states,
    }
    others = [lang for lang in languages if lang != "en"]
    if others:
        survey["messages"] = {m: {lang: DEFAULT_MESSAGES[m] for lang in others}
                              for m in MESSAGE_NAMES}
        form.warnings.append(Problem("messages", "the box's own messages (sorry, goodbye...) "
                                     f"were copied in English for {', '.join(others)}: "
                                     "translate them in the survey file", None, "warning"))
    if form.copied:
        rows = ", ".join(str(n) for n in sorted(form.copied))
        form.warnings.append(Problem("survey", f"rows {rows}: a language without its label "
                                     "got the default language's text; translate it", None,
                                     "warning"))
    return survey, form.warnings


def _languages(columns: set[str], settings: Row | None) -> tuple[list[str], dict[str, str]]:
    """The declared languages (default first) and each one's name as the author wrote it."""
    found: list[str] = []
    names: dict[str, str] = {}
    for column in sorted(columns):
        head, _, lang = column.partition("::")
        if head in ("label", "hint", "audio") and lang:
            code = language_code(lang)
            names.setdefault(code, lang.split("(")[0].strip() or code)
            if code not in found:
                found.append(code)
    default = language_code(settings.get("default_language")) if settings and \
        settings.get("default_language") else None
    if not found or "label" in columns:  # a plain label column is the default language
        default = default or "en"
    if default is None:
        default = found[0]
    return [default] + [lang for lang in found if lang != default], names


def _texts(row: Row, column: str, form: _Form, required: bool = True) -> dict[str, str]:
    """``label`` in every language; a missing one falls back to the default's (as ODK
    shows it), noted for translation."""
    by_language: dict[str, str] = {}
    for name, value in row.values.items():
        head, _, lang = name.partition("::")
        if head == column and value:
            by_language[language_code(lang) if lang else form.default] = value
    if not by_language:
        if required:
            form.error(row, f"no {column}: a phone question must say something")
        return {}
    fallback = by_language.get(form.default) or next(iter(by_language.values()))
    for lang in form.languages:
        if lang not in by_language:
            by_language[lang] = fallback
            form.copied.add(row.number)
    return by_language


def _prompt(row: Row, form: _Form, extra: dict[str, str] | None = None) -> dict[str, Any]:
    labels = _texts(row, "label", form)
    hints = _texts(row, "hint", form, required=False)
    prompt: dict[str, Any] = {}
    for lang in form.languages:
        text = " ".join(t for t in (labels.get(lang, ""), hints.get(lang, ""),
                                    (extra or {}).get(lang, "")) if t)
        audio = next((v for k, v in row.values.items() if k.partition("::")[0] == "audio"
                      and language_code(k.partition("::")[2] or form.default) == lang), None)
        prompt[lang] = {"text": text, "audio": audio} if audio else text
    return prompt


def _rows(rows: list[Row], form: _Form) -> None:
    """The survey sheet in order: groups flattened, skip logic as splits before what it
    guards (its else: whatever comes after the question or the group)."""
    stack: list[tuple[Row, int]] = []  # open groups: their row, where their states start
    for row in rows:
        kind = " ".join(row.get("type").split()).lower()
        head = kind.split(" ")[0]
        name = row.get("name")
        if head in ("begin", "begin_group") and kind in ("begin group", "begin_group"):
            start = len(form.states)
            if _texts(row, "label", form, required=False):
                form.states.append({"name": name or f"group_{row.number}", "type": "say",
                                    "barge_in": True, "prompt": _prompt(row, form)})
            stack.append((row, start))
            continue
        if kind in ("end group", "end_group"):
            if not stack:
                form.error(row, "end group without a begin group")
                continue
            group, start = stack.pop()
            _guard(group, start, form)
            continue
        if kind in UNKEYABLE or head in UNKEYABLE:
            what = UNKEYABLE.get(kind) or UNKEYABLE[head]
            form.error(row, f"type {row.get('type')!r} ({what}) cannot be keyed on a phone; "
                       "remove it or ask it another way (e.g. select_one)")
            continue
        if kind in METADATA:
            continue
        if kind == "calculate":
            form.warnings.append(Problem(f"survey row {row.number}", "calculate is left out: "
                                         "the box does not compute XPath; compute it at HQ",
                                         name or None, "warning"))
            continue
        if not name:
            form.error(row, "a question needs a name (the column its answers go under)")
            continue
        start = len(form.states)
        state = _question(row, kind, head, form)
        if state is None:
            continue
        form.states.append(state)
        _guard(row, start, form)
    for group, _start in stack:
        form.error(group, "begin group without its end group")


def _question(row: Row, kind: str, head: str, form: _Form) -> dict[str, Any] | None:
    name = row.get("name")
    state: dict[str, Any] = {"name": name}
    if head in ("select_one", "select_multiple"):
        parts = kind.split(" ")
        if len(parts) != 2 or parts[1] == "or_other":
            form.error(row, f"type {row.get('type')!r}: expected {head} LIST_NAME (or_other "
                       "is free text, which a phone cannot take)")
            return None
        options = form.choices.get(row.get("type").split()[1])
        if not options:
            form.error(row, f"choice list {parts[1]!r} is not on the choices sheet")
            return None
        if len(options) > MAX_CHOICES:
            form.error(row, f"{len(options)} choices: a phone has keys 1 to {MAX_CHOICES}; "
                       "split the question or shorten the list")
            return None
        said: dict[str, list[str]] = {lang: [] for lang in form.languages}
        for key, choice in enumerate(options, start=1):
            for lang, text in _texts(choice, "label", form).items():
                said[lang].append(f"{key}: {text}.")
        state.update(type="choice", prompt=_prompt(row, form, {
            lang: " ".join(parts) for lang, parts in said.items()}), options=[
            {"key": str(key), "value": choice.get("name")}
            for key, choice in enumerate(options, start=1)])
        if head == "select_multiple":
            state["multiple"] = True
    elif head in ("integer", "decimal"):
        decimals = head == "decimal"
        low, high = 0, 10 ** 9 - 1
        if row.get("constraint"):
            try:
                found_low, found_high = number_range(row.get("constraint"), decimals)
            except ExpressionError as exc:
                form.error(row, f"constraint {row.get('constraint')!r}: {exc}")
                return None
            low = found_low if found_low is not None else low
            high = found_high if found_high is not None else high
        if low < 0:
            form.error(row, "a phone keypad has no minus sign: the lowest answer must be 0 "
                       "or more")
            return None
        number = (lambda v: v) if decimals else int
        state.update(type="number", prompt=_prompt(row, form), min=number(low),
                     max=number(high))
        if decimals:
            state["decimals"] = 2
    elif head == "note":
        state.update(type="say", barge_in=True, prompt=_prompt(row, form))
        return state
    elif head == "acknowledge":
        state.update(type="choice", prompt=_prompt(row, form),
                     options=[{"key": "1", "value": "OK"}])
    else:
        form.error(row, f"unknown type {row.get('type')!r}")
        return None
    if row.get("constraint") and head not in ("integer", "decimal"):
        form.error(row, f"constraint on a {head} cannot be checked on a phone")
        return None
    sorry = _texts(row, "constraint_message", form, required=False)
    if sorry:
        state["sorry"] = sorry
    if row.get("required").lower() not in ("yes", "true", "true()", "1"):
        state["optional"] = True  # silence skips it
    return state


def _guard(row: Row, start: int, form: _Form) -> None:
    """Put a split before states[start:] when ``row`` has a relevant."""
    relevant = row.get("relevant")
    if not relevant or start >= len(form.states):
        return
    try:
        branches = skip_logic(relevant, form.multiple)
    except ExpressionError as exc:
        form.error(row, f"relevant {relevant!r}: {exc}")
        return
    if branches == [()]:
        return
    first, last = form.states[start]["name"], form.states[-1]["name"]
    conditions = []
    for conjunction in branches:
        tests = [{"input": "{{answers.%s}}" % (t.field if t.field != "." else first),
                  "op": t.op, "value": t.value} for t in conjunction]
        conditions.append({**tests[0], "next": first} if len(tests) == 1
                          else {"all": tests, "next": first})
    split: dict[str, Any] = {"name": f"relevant_{first}", "type": "split",
                             "note": f"XLSForm relevant: {relevant}", "else": f"@after:{last}"}
    if conditions:
        split["conditions"] = conditions
    else:  # never relevant: a split that always skips
        split["conditions"] = [{"input": "x", "op": "equal_to", "value": "y", "next": first}]
    form.states.insert(start, split)


def _close(form: _Form) -> None:
    """The last note is the goodbye; else a short one is added."""
    if form.states and form.states[-1]["type"] == "say" and not form.states[-1][
            "name"].startswith("relevant_"):
        last = form.states[-1]
        last["type"] = "end"
        last.pop("barge_in", None)
        return
    form.states.append({"name": "goodbye", "type": "end", "prompt": {
        lang: _GOODBYE.get(lang, _GOODBYE["en"]) for lang in form.languages}})


def _resolve(form: _Form) -> None:
    """``@after:<name>``: the state after that one (the goodbye after the last)."""
    names = [s["name"] for s in form.states]
    after = {n: names[i + 1] if i + 1 < len(names) else None for i, n in enumerate(names)}
    for state in form.states:
        for key in ("else", "on_timeout"):
            value = state.get(key)
            if isinstance(value, str) and value.startswith("@after:"):
                state[key] = after[value.removeprefix("@after:")]
