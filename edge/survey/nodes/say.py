"""say: play a message, then go on (``next``, defaulting to the following state).

``barge_in`` (default false): a key stops the message and counts as input to the next question
(callers who know the survey need not wait). ``loop`` (default 1): times the message plays.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edge.survey._model import Transition
from edge.survey._problems import shown

from ._base import CompileContext, NodeKind, say_loop


class Say(NodeKind):
    name = "say"
    behaviour = "say"
    keys = frozenset({"next", "barge_in", "loop"})

    def compile(self, raw: Mapping[str, Any], path: str, following: str | None,
                ctx: CompileContext) -> tuple[dict[str, Any], list[Transition]]:
        name = raw.get("name")
        target = ctx.target(raw.get("next", following), f"{path}.next", name)
        if target is None:
            ctx.problem(path, "a say state needs a next state (it is the last one); end the "
                        "survey with an 'end' state", name)
        barge_in = raw.get("barge_in", False)
        if not isinstance(barge_in, bool):
            ctx.problem(f"{path}.barge_in", f"expected true or false, got {shown(barge_in)}", name)
            barge_in = False
        return ({"barge_in": barge_in, **say_loop(raw, path, ctx, name)},
                [Transition("audioComplete", target, f"{path}.next")])


KIND = Say()
