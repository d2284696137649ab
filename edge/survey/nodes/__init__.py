"""Node kinds, one module each; their cases live in tests/edge/survey/nodes/testdata/."""

from . import choice, end, language, number, say, split, yesno
from ._base import CompileContext, GatherSpec, Interpretation, NodeKind

KINDS: dict[str, NodeKind] = {
    module.KIND.name: module.KIND
    for module in (language, say, choice, yesno, number, split, end)
}

__all__ = ["KINDS", "CompileContext", "GatherSpec", "Interpretation", "NodeKind"]
