"""Notices when the box gets a route to the outside again, so sync can try at once instead of
waiting for its next scheduled attempt (issue: "auto-send not firing after connectivity
returns")."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from edge.net import has_default_route, read_route_tables

log = logging.getLogger("edgecall.link")

# Returns (/proc/net/route text, /proc/net/ipv6_route text), None when neither can be read.
TableReader = Callable[[], tuple[str, str] | None]


class LinkWatch:
    """Polls the IPv4 and IPv6 routing tables; calls ``on_up()`` on each change from no default
    route to one."""

    def __init__(self, on_up: Callable[[], None], interval_s: float = 15.0,
                 read: TableReader = read_route_tables) -> None:
        self._on_up = on_up
        self._interval = interval_s
        self._read = read
        self._stop = threading.Event()
        self._was_up: bool | None = None
        self._thread = threading.Thread(target=self._run, name="linkwatch", daemon=True)

    def start(self) -> LinkWatch:
        self._thread.start()
        return self

    def check(self) -> bool:
        """One look; True when the link just came up."""
        try:
            tables = self._read()
        except OSError:
            return False
        if tables is None:  # no /proc: nothing to tell, the state stays as it was
            return False
        up = has_default_route(*tables)
        came_up = up and self._was_up is False
        self._was_up = up
        if came_up:
            log.info("network link is up")
            self._on_up()
        return came_up

    def _run(self) -> None:
        # The first look at once, then every interval (even when a look told nothing: waiting
        # 0 until one did would spin on a box without readable tables).
        self.check()
        while not self._stop.wait(self._interval):
            self.check()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
