"""Notices when the box gets a route to the outside again, so sync can try at once instead of
waiting for its next scheduled attempt (issue: "auto-send not firing after connectivity
returns")."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("edgecall.link")

ROUTES = Path("/proc/net/route")


def has_default_route(table: str) -> bool:
    """True when /proc/net/route's text has an up (flag 0x1) default route (destination 0)."""
    for line in table.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 4 and fields[1] == "00000000" and int(fields[3], 16) & 0x1:
            return True
    return False


class LinkWatch:
    """Polls the routing table; calls ``on_up()`` on each change from no route to a route."""

    def __init__(self, on_up: Callable[[], None], interval_s: float = 15.0,
                 read: Callable[[], str] | None = None) -> None:
        self._on_up = on_up
        self._interval = interval_s
        self._read = read or (lambda: ROUTES.read_text() if ROUTES.exists() else "")
        self._stop = threading.Event()
        self._was_up: bool | None = None
        self._thread = threading.Thread(target=self._run, name="linkwatch", daemon=True)

    def start(self) -> LinkWatch:
        self._thread.start()
        return self

    def check(self) -> bool:
        """One look; True when the link just came up."""
        try:
            up = has_default_route(self._read())
        except OSError:
            return False
        came_up = up and self._was_up is False
        self._was_up = up
        if came_up:
            log.info("network link is up")
            self._on_up()
        return came_up

    def _run(self) -> None:
        while not self._stop.wait(self._interval if self._was_up is not None else 0):
            self.check()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
