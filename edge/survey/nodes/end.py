"""end: the closing message, then hang up. ``disposition`` is what reaching it means:
``complete`` (default) or ``refused`` (e.g. the caller declined consent)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edge.survey._model import Transition

from ._base import CompileContext, NodeKind

END_DISPOSITIONS = ("complete", "refused")


class End(NodeKind):
    name = "end"
    behaviour = "say"
    keys = frozenset({"disposition"})

    def compile(self, raw: Mapping[str, Any], path: str, following: str | None,
                ctx: CompileContext) -> tuple[dict[str, Any], list[Transition]]:
        disposition = raw.get("disposition", "complete")
        if disposition not in END_DISPOSITIONS:
            ctx.problem(f"{path}.disposition", f"got {disposition!r}, expected one of "
                        + ", ".join(END_DISPOSITIONS), raw.get("name"))
            disposition = "complete"
        return {"disposition": disposition, "barge_in": False}, [Transition("audioComplete", None)]


KIND = End()
