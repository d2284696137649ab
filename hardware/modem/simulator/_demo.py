"""The demo's modem bank: simulated modules with the real modem line on each, so ``edgecall
demo`` can place its calls through the real AT driver.

edge/ may not import hardware/: the demo finds :class:`ModemDemo` through an entry point
(proposed: ``edgecall.demo_lines``: ``modem = "hardware.modem.simulator:ModemDemo"``).
"""

from __future__ import annotations

import threading
from pathlib import Path

from edge.lines import Line, LineContext

from .._line import ModemLine, ModemSettings
from ._server import ModemSimulator


class ModemDemo:
    """``lines`` simulated modules of one profile, each behind a stable symlink in
    ``directory``. ``speed`` > 1 shortens rings and speech for an accelerated demo."""

    def __init__(self, directory: Path, *, profile: str = "sim800", lines: int = 1,
                 speed: float = 1.0) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.profile = profile
        # The scripted callers react as much faster as the demo runs.
        self.quiet_s = max(0.02, 0.3 / speed)
        self.simulators = [
            ModemSimulator(profile, link=directory / f"modem{i}", ring_interval=3.0 / speed,
                           tts_char_s=0.06 / speed)
            for i in range(lines)
        ]
        self._lock = threading.Lock()
        self._started = False

    def start(self) -> ModemDemo:
        for sim in self.simulators:
            sim.start()
        self._started = True
        return self

    def lines(self, context: LineContext) -> list[Line]:
        """The real modem lines, one per simulated module (start them as any line)."""
        return [ModemLine(ModemSettings(port=sim.path, profile=self.profile,
                                        name=f"modem{i}"), context)
                for i, sim in enumerate(self.simulators)]

    def place_call(self, number: str | None, key_groups: list[str], *,
                   hang_up_after_s: float | None = None) -> threading.Thread | None:
        """Ring an idle module with a caller who answers each question with the next group of
        keys. None when every module is in a call (the caller would hear busy)."""
        with self._lock:
            for sim in self.simulators:
                if sim.snapshot()["call"] == "idle":
                    return sim.run_caller(number, key_groups, quiet_s=self.quiet_s,
                                          hang_up_after_s=hang_up_after_s)
        return None

    def stop(self) -> None:
        for sim in self.simulators:
            sim.stop()

    def __enter__(self) -> ModemDemo:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
