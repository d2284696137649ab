"""One module per Studio widget: its events and how it becomes edgecall states. Their cases
live in tests/edge/survey/studio/testdata/<widget>.json."""

from __future__ import annotations

from types import ModuleType

from . import (
    connect_call_to,
    enqueue_call,
    gather_input_on_call,
    make_http_request,
    other_cloud,
    record_voicemail,
    run_function,
    say_play,
    send_message,
    send_to_flex,
    set_variables,
    split_based_on,
    trigger,
)

_MODULES: tuple[ModuleType, ...] = (
    trigger, gather_input_on_call, say_play, split_based_on, set_variables, record_voicemail,
    connect_call_to, make_http_request, run_function, send_to_flex, send_message, enqueue_call)

# widget type -> (its events, the module that converts it)
WIDGETS: dict[str, tuple[frozenset[str], ModuleType]] = {
    **{m.TYPE: (m.EVENTS, m) for m in _MODULES},
    **{kind: (frozenset(events), other_cloud) for kind, (events, _f) in other_cloud.CLOUD.items()},
}

__all__ = ["WIDGETS"]
