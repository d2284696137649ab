"""gather-input-on-call: keys the caller types.

- followed (on ``keypress``) by a split-based-on over its own ``{{widgets.<name>.Digits}}``
  whose conditions are each one key ``equal_to`` -> ``choice``: each condition an option with
  its own next, stored under the author's friendly name or else the key itself; ``noMatch``
  back to the gather is the usual retry, elsewhere ``on_invalid``;
- any other gather -> ``digits``: the keys as typed, ended by ``number_of_digits`` when given,
  else by ``finish_on_key`` (default ``#``) or silence, as Twilio's <Gather>;
- ``timeout`` (1-30 s), ``loop`` (prompts before giving up), the ``timeout`` transition ->
  ``on_timeout``.

The box hears keys only: a gather wired for speech alone is refused; one wired for both
works with keys (a warning says so).
"""

from __future__ import annotations

import re
from typing import Any

from .._context import FlowContext, next_of, slug
from ._prompt import prompt
from .split_based_on import author_name

TYPE = "gather-input-on-call"
EVENTS = frozenset({"keypress", "speech", "timeout"})

_DIGITS = re.compile(r"^\{\{\s*widgets\.([\w-]+)\.Digits\s*\}\}$")


def convert(name: str, state: dict[str, Any], ctx: FlowContext) -> list[dict[str, Any]]:
    props = state.get("properties", {})
    keypress, speech = next_of(state, "keypress"), next_of(state, "speech")
    speech_only = props.get("input") == "speech" or (speech and not keypress)
    if speech_only:
        ctx.problem(name, "listens for speech only (its speech transition is wired, keypress "
                    "is not): the box hears keys only; wire keypress and say which key to "
                    "press", ".transitions")
        return []
    if speech:
        ctx.problem(name, "its speech transition is not used on the box: callers press keys",
                    ".transitions", "warning")
    language = ctx.language(props.get("language"))
    said = prompt(name, props, language, ctx)
    if said is None:
        return []
    entry: dict[str, Any] = {"name": name, "language": language, "prompt": said}
    if "timeout" in props:
        entry["timeout"] = max(1, min(60, int(props["timeout"])))
    loop = props.get("loop")
    if isinstance(loop, int) and not isinstance(loop, bool):
        entry["max_attempts"] = max(1, min(10, loop or 10))  # 0: Studio's "for ever"
    if next_of(state, "timeout"):
        entry["on_timeout"] = next_of(state, "timeout")
    split = ctx.states.get(keypress) if keypress else None
    options = _options(name, split, ctx)
    if options is not None and split is not None:
        ctx.consumed.add(split["name"])
        entry.update(type="choice", options=options, next=None)
        no_match = next_of(split, "noMatch")
        if no_match and no_match != name:
            entry["on_invalid"] = no_match
        return [entry]
    entry["type"] = "digits"
    digits = props.get("number_of_digits")
    if isinstance(digits, int) and not isinstance(digits, bool) and digits > 0:
        entry["max_digits"] = min(64, digits)
    finish = props.get("finish_on_key", "#")
    entry["finish_key"] = finish if finish in ("", "#", "*") or (
        isinstance(finish, str) and len(finish) == 1 and finish.isdigit()) else "#"
    entry["next"] = keypress
    return [entry]


def _options(name: str, split: dict[str, Any] | None,
             ctx: FlowContext) -> list[dict[str, Any]] | None:
    """The split's conditions as one-key options, when it is a plain menu on this gather."""
    if not split or split.get("type") != "split-based-on":
        return None
    source = str(split.get("properties", {}).get("input", "")).strip()
    match = _DIGITS.match(source)
    if not match or match.group(1) != name or _entered_elsewhere(split["name"], name, ctx):
        return None
    options: list[dict[str, Any]] = []
    for transition in split.get("transitions", []):
        if transition.get("event") == "noMatch":
            continue
        conditions = transition.get("conditions") or []
        if len(conditions) != 1 or conditions[0].get("type") != "equal_to":
            return None
        key = str(conditions[0].get("value", "")).strip()
        if len(key) != 1 or key not in "0123456789*#" or any(o["key"] == key for o in options):
            return None
        label = author_name(conditions[0])
        options.append({"key": key, "value": slug(label) if label else key,
                        "next": transition.get("next") or None})
    values = [o["value"] for o in options]
    if not options or len(set(values)) != len(values):
        return None
    return options


def _entered_elsewhere(split: str, gather: str, ctx: FlowContext) -> bool:
    """A split other widgets also lead to cannot be folded into one gather."""
    return any(t.get("next") == split for n, s in ctx.states.items() if n != gather
               for t in s.get("transitions", []))
