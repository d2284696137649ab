"""Where the demo's callers come from: the built-in simulated line, or a plug-in that puts
real line drivers in front of simulated hardware (``edgecall.demo_lines``; the modem package
provides ``modem``: simulated modules behind the real AT driver).

A plug-in is a factory ``(directory, *, lines, speed, profile?) -> bank`` whose bank has
``start()``, ``lines(context) -> list[Line]``, ``place_call(number, key_groups,
hang_up_after_s=)`` (None while every line is in a call) and ``stop()``. A bank whose lines
can call people back says so with ``calls_back = True`` and also has
``place_call(..., rings_off=True)`` (a caller who rings off before the box answers) and
``answer_calls_back(number, key_groups, hang_up_after_s=)`` (how that number answers when the
box dials it). edge/ only calls these, so it still never imports hardware/.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from edge.lines import Line, LineContext
from edge.lines.simulated import SimulatedLine, SimulatedPhone
from edge.plugins import demo_lines
from edge.survey import Survey

from ._personas import DemoCaller, key_groups


class CallerNetwork(Protocol):
    lines: list[Line]
    # Whether callers can ring off and be called back (the box dials them on these lines).
    calls_back: bool

    def timer_scale(self, speed: float) -> float:
        """How much to shrink the box's silence timeouts for callers this fast."""

    def place(self, caller: DemoCaller) -> None: ...

    def close(self) -> None: ...


class SimulatedNetwork:
    calls_back = True

    def __init__(self, speed: float) -> None:
        self._phones: dict[str, SimulatedPhone] = {}
        self._line = SimulatedLine("sim", speed=speed, phones=self._phone)
        self.lines: list[Line] = [self._line]

    def _phone(self, number: str) -> SimulatedPhone:
        return self._phones.get(number, SimulatedPhone("no-answer"))

    def timer_scale(self, speed: float) -> float:
        return 1 / speed

    def place(self, caller: DemoCaller) -> None:
        if caller.callback_script is not None:  # if the box calls back, they answer
            self._phones[caller.number] = SimulatedPhone("answers", 4.0, caller.callback_script)
        self._line.place_call(caller.number, caller.script)

    def close(self) -> None:
        self._line.close()


class PluginNetwork:
    """Callers through a plug-in's simulated hardware and real drivers."""

    def __init__(self, factory: Callable[..., Any], directory: Path, survey: Survey,
                 lines: int, speed: float) -> None:
        self._survey = survey
        self._speed = speed
        self._bank = factory(directory, lines=lines, speed=speed).start()
        # Callers ring off and are called back only where the bank's lines can dial them.
        self.calls_back = bool(getattr(self._bank, "calls_back", False))
        self.lines = list(self._bank.lines(LineContext(data_dir=directory)))

    def timer_scale(self, speed: float) -> float:
        # Real serial I/O and a real driver sit between caller and box: never below 0.5 s.
        return max(1 / speed, 0.1)

    def place(self, caller: DemoCaller, wait_s: float = 300.0) -> None:
        groups, hangs_up = key_groups(self._survey, caller.script)
        hang_up_after = 0.5 / self._speed if hangs_up else None
        extra: dict[str, bool] = {}
        if self.calls_back:
            if caller.callback_script is not None:  # if the box calls back, they answer
                back, back_hangs_up = key_groups(self._survey, caller.callback_script)
                self._bank.answer_calls_back(
                    caller.number, back,
                    hang_up_after_s=0.5 / self._speed if back_hangs_up else None)
            extra = {"rings_off": caller.rang_off}
        deadline = time.monotonic() + wait_s
        # Each simulated module takes one call: a caller waits for a free one, as they would
        # redial after hearing the network's busy tone.
        while self._bank.place_call(caller.number, groups, hang_up_after_s=hang_up_after,
                                    **extra) is None:
            if time.monotonic() > deadline:
                raise TimeoutError("no simulated line became free")
            time.sleep(0.05)

    def close(self) -> None:
        for line in self.lines:
            line.stop()
        self._bank.stop()


def available() -> dict[str, Callable[..., Any]]:
    return demo_lines()


def open_network(via: str, directory: Path, survey: Survey, lines: int,
                 speed: float) -> CallerNetwork:
    if via == "simulated":
        return SimulatedNetwork(speed)
    plugins = available()
    if via not in plugins:
        raise ValueError(f"no demo line {via!r}; available: simulated, " + ", ".join(plugins))
    return PluginNetwork(plugins[via], directory / via, survey, lines, speed)
