"""Helpers for the server tests (imported relatively: tests run in importlib mode)."""

from __future__ import annotations

import threading
from typing import Any

from edge.lines.simulated import CallerScript, SimulatedCall, SimulatedLine
from edge.privacy import Pseudonymiser
from edge.server import run_call
from edge.store import Store
from edge.survey import Survey

SPEED = 50.0


def answered_call(line: SimulatedLine, script: CallerScript, survey: Survey, store: Store,
                  pseudonymiser: Pseudonymiser, timer_scale: float | None = None,
                  **kwargs: Any) -> tuple[SimulatedCall, str]:
    """Place one call and run it on this thread; return (call, disposition)."""
    taken: list[SimulatedCall] = []
    line.start(taken.append)
    call = line.place_call("+255700000001", script)
    assert taken == [call]
    scale = 1 / line.speed if timer_scale is None else timer_scale
    disposition = run_call(call, survey, store, pseudonymiser, timer_scale=scale, **kwargs)
    assert threading.current_thread() is threading.main_thread()
    return call, disposition
