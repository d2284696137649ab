"""yesno: one key for yes, one for no (1 and 2 unless ``yes_key``/``no_key`` say otherwise).

Authoring::

    {"name": "consent", "type": "yesno", "prompt": {...}, "yes": "household", "no": "declined"}

``yes``/``no`` default to ``next`` (itself defaulting to the following state).
``"callback": true``: a yes asks for a call back; the caller's number is then kept (the only
place a raw number is stored) until the callback is done.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edge.survey._model import MATCH_PREFIX, Transition
from edge.survey._problems import shown

from ._base import (
    GATHER_KEYS,
    CompileContext,
    SingleKeyKind,
    gather_overrides,
    gather_transitions,
)


class YesNo(SingleKeyKind):
    name = "yesno"
    keys = GATHER_KEYS | {"yes", "no", "yes_key", "no_key", "callback"}

    def compile(self, raw: Mapping[str, Any], path: str, following: str | None,
                ctx: CompileContext) -> tuple[dict[str, Any], list[Transition]]:
        name = raw.get("name")
        transitions = gather_transitions(raw, path, following, ctx, name)
        yes_key = ctx.key(raw.get("yes_key", "1"), f"{path}.yes_key", name) or "1"
        no_key = ctx.key(raw.get("no_key", "2"), f"{path}.no_key", name) or "2"
        if yes_key == no_key:
            ctx.problem(f"{path}.no_key", f"key {no_key!r} is used twice (yes and no)", name)
        for answer in ("yes", "no"):
            if answer in raw:
                transitions.append(ctx.transition(MATCH_PREFIX + answer, raw[answer],
                                                  f"{path}.{answer}", name))
        callback = raw.get("callback", False)
        if not isinstance(callback, bool):
            ctx.problem(f"{path}.callback", f"expected true or false, got {shown(callback)}", name)
            callback = False
        props = {"options": {yes_key: "yes", no_key: "no"}, "callback": callback,
                 **gather_overrides(raw, path, ctx, name)}
        return props, transitions


KIND = YesNo()
