"""end: the closing message, then hang up.

``disposition`` is what reaching it means: ``complete``, ``refused`` (e.g. the caller declined
consent), ``partial`` or ``no-input``. Without one, the survey's ``end_disposition`` setting
applies (default ``complete``), except that a caller whose last question ended in silence is
``no-input``: a flow that says goodbye after a timeout has not heard the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edge.survey._model import Transition
from edge.survey._problems import shown

from ._base import CompileContext, NodeKind, say_loop

END_DISPOSITIONS = ("complete", "refused", "partial", "no-input")


class End(NodeKind):
    name = "end"
    behaviour = "say"
    keys = frozenset({"disposition", "loop"})

    def compile(self, raw: Mapping[str, Any], path: str, following: str | None,
                ctx: CompileContext) -> tuple[dict[str, Any], list[Transition]]:
        disposition = raw.get("disposition")
        if disposition is not None and disposition not in END_DISPOSITIONS:
            ctx.problem(f"{path}.disposition", f"got {shown(disposition)}, expected one of "
                        + ", ".join(END_DISPOSITIONS), raw.get("name"))
            disposition = None
        props = {"disposition": disposition, "barge_in": False,
                 **say_loop(raw, path, ctx, raw.get("name"))}
        return props, [Transition("audioComplete", None)]


KIND = End()
