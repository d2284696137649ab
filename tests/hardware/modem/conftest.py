"""Fixtures: a simulated module on a real pseudo-terminal and the driver's line opened on it
with pyserial, exactly as on /dev/ttyUSB2."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from edge.clock import Clock
from edge.lines import Call, LineContext
from hardware.modem import ModemLine, ModemSettings
from hardware.modem.simulator import ModemSimulator

PROFILES = ("sim800", "ec25", "sim7600")


def wait_for(predicate: Callable[[], object], timeout: float = 10.0, step: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(step)


class Rig:
    """A simulator, a line on it, and what the line told the server. ``on_call`` runs on the
    line's thread for each new call, as the server's does (e.g. to reject it at once);
    ``clock`` receives the network times, as the box's Clock does."""

    def __init__(self, sim: ModemSimulator, tmp: Path, *,
                 on_call: Callable[[Call], None] | None = None, clock: Clock | None = None,
                 recordings: Callable[[], list] | None = None,
                 **settings: object) -> None:
        self.sim = sim
        self.calls: list[Call] = []
        self.sms: list[tuple[str, str]] = []
        self.times: list[datetime] = []
        self.on_call = on_call
        self.clock = clock

        def network_time(utc: datetime) -> None:
            self.times.append(utc)
            if clock is not None:
                clock.note_network_time(utc)

        context = LineContext(tmp, on_network_time=network_time,
                              on_sms=lambda sender, text: self.sms.append((sender, text)),
                              extras={"recordings": recordings} if recordings else {})
        values = {"port": sim.path, "profile": sim.profile, "status_poll_s": 2.0,
                  "clcc_poll_s": 1.0, "max_backoff_s": 0.5, **settings}
        self.line = ModemLine(ModemSettings(**values), context)  # type: ignore[arg-type]

    def start(self) -> Rig:
        def arrived(call: Call) -> None:
            self.calls.append(call)
            if self.on_call is not None:
                self.on_call(call)

        self.line.start(arrived)
        return self

    def wait_ready(self, timeout: float = 10.0) -> None:
        wait_for(lambda: self.line.status().state == "ready", timeout)

    def ring(self, number: str | None = "+255712345678", **kwargs: object) -> Call:
        before = len(self.calls)
        if number is None:
            self.sim.incoming_call(None, withheld=True, **kwargs)  # type: ignore[arg-type]
        else:
            self.sim.incoming_call(number, **kwargs)  # type: ignore[arg-type]
        wait_for(lambda: len(self.calls) > before)
        return self.calls[-1]


@pytest.fixture
def rig_factory(tmp_path: Path) -> Iterator[Callable[..., Rig]]:
    made: list[Rig] = []

    def make(profile: str = "sim800", *, start: bool = True, sim_args: dict | None = None,
             **settings: object) -> Rig:
        sim = ModemSimulator(profile, link=tmp_path / f"modem-{len(made)}",
                             **{"ring_interval": 0.5, **(sim_args or {})})
        sim.start()
        rig = Rig(sim, tmp_path, **settings)
        made.append(rig)
        if start:
            rig.start()
        return rig

    yield make
    for rig in made:
        rig.line.stop()
        rig.sim.stop()


@pytest.fixture
def wait() -> Callable[..., None]:
    """``wait(predicate, timeout=10)``: poll until true or fail."""
    return wait_for
