"""The demo's modem bank: simulated modules with the real modem line on each, so ``edgecall
demo`` can place its calls through the real AT driver, and the box can call people back
through it.

edge/ may not import hardware/: the demo finds :class:`ModemDemo` through an entry point
(``edgecall.demo_lines``: ``modem = "hardware.modem.simulator:ModemDemo"``).
"""

from __future__ import annotations

import threading
from pathlib import Path

from edge.lines import Line, LineContext

from .._line import ModemLine
from .._settings import ModemSettings
from ._outgoing import SimPhone
from ._server import ModemSimulator


class ModemDemo:
    """``lines`` simulated modules of one profile, each behind a stable symlink in
    ``directory``. ``speed`` > 1 shortens rings and speech for an accelerated demo."""

    # Callers can ring off and be called back: the modules dial simulated phones.
    calls_back = True

    def __init__(self, directory: Path, *, profile: str = "sim800", lines: int = 1,
                 speed: float = 1.0) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.profile = profile
        # The scripted callers react as much faster as the demo runs.
        self.quiet_s = max(0.02, 0.3 / speed)
        self.simulators = [
            ModemSimulator(profile, link=directory / f"modem{i}", ring_interval=3.0 / speed,
                           tts_char_s=0.06 / speed, play_scale=1.0 / speed)
            for i in range(lines)
        ]
        for sim in self.simulators:
            # A number nobody registered rings twice, then the network gives up.
            sim.set_phone(None, SimPhone("no-answer", rings=2))
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
                   hang_up_after_s: float | None = None,
                   rings_off: bool = False) -> object | None:
        """Ring an idle module with a caller who answers each question with the next group of
        keys, or, with ``rings_off``, who hangs up after one RING (no credit: call me back).
        None when every module is in a call (the caller would hear busy)."""
        with self._lock:
            for sim in self.simulators:
                if not sim.ring_if_idle(number, rings=1 if rings_off else None):
                    continue
                if rings_off:
                    return sim
                return sim.run_caller(number, key_groups, quiet_s=self.quiet_s,
                                      hang_up_after_s=hang_up_after_s, ring=False)
        return None

    def answer_calls_back(self, number: str, key_groups: list[str], *,
                          hang_up_after_s: float | None = None) -> None:
        """When the box dials ``number`` (from any module), the phone rings once, is answered,
        and presses each group of keys once a new question has been asked."""
        phone = SimPhone("answers", rings=1, keys=tuple(key_groups), quiet_s=self.quiet_s,
                         hang_up_after_s=hang_up_after_s)
        for sim in self.simulators:
            sim.set_phone(number, phone)

    def stop(self) -> None:
        for sim in self.simulators:
            sim.stop()

    def __enter__(self) -> ModemDemo:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
