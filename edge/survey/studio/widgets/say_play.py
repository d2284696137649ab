"""say-play: a message (say text, play URL or DTMF digits, ``loop`` times) -> ``say``, or
``end`` when nothing follows it."""

from __future__ import annotations

from typing import Any

from .._context import FlowContext, next_of
from ._prompt import prompt

TYPE = "say-play"
EVENTS = frozenset({"audioComplete"})


def convert(name: str, state: dict[str, Any], ctx: FlowContext) -> list[dict[str, Any]]:
    props = state.get("properties", {})
    language = ctx.language(props.get("language"))
    said = prompt(name, props, language, ctx)
    if said is None:
        return []
    entry: dict[str, Any] = {"name": name, "language": language, "prompt": said}
    loop = props.get("loop")
    if isinstance(loop, int) and not isinstance(loop, bool) and loop != 1:
        entry["loop"] = max(1, min(10, loop or 10))  # Studio's 0 is "for ever": ten times
    target = next_of(state, "audioComplete")
    if target is None:
        return [{**entry, "type": "end"}]
    return [{**entry, "type": "say", "next": target}]
