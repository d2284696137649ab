"""Node kinds, one module each; their cases live in tests/edge/survey/nodes/testdata/."""

from . import (
    choice,
    cloud,
    connect,
    digits,
    end,
    http,
    language,
    message,
    number,
    record,
    say,
    set_variables,
    split,
    yesno,
)
from ._base import CompileContext, GatherSpec, Interpretation, NodeKind, Step

KINDS: dict[str, NodeKind] = {
    module.KIND.name: module.KIND
    for module in (language, say, choice, yesno, number, digits, split, set_variables, end,
                   http, message, connect, record, cloud)
}

__all__ = ["KINDS", "CompileContext", "GatherSpec", "Interpretation", "NodeKind", "Step"]
