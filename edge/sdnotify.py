"""systemd notifications (READY, STOPPING, STATUS, WATCHDOG) over $NOTIFY_SOCKET.

The datagram protocol is a few lines (sd_notify(3)), so it is spoken directly rather than
through a package: nothing to install on the box, nothing to break. Without $NOTIFY_SOCKET
(not under systemd) every call is a no-op.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable

log = logging.getLogger("edgecall.systemd")


class Notifier:
    def __init__(self, address: str | None = None) -> None:
        address = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):  # abstract namespace socket
            address = "\0" + address[1:]
        self._address = address or None

    @property
    def enabled(self) -> bool:
        return self._address is not None

    def send(self, *fields: str) -> bool:
        if self._address is None:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto("\n".join(fields).encode(), self._address)
            return True
        except OSError as exc:  # systemd gone or socket unreadable: nothing to stop for
            log.warning("sd_notify failed: %s", exc)
            return False

    def ready(self, status: str = "") -> bool:
        return self.send("READY=1", *([f"STATUS={status}"] if status else []))

    def stopping(self) -> bool:
        return self.send("STOPPING=1")

    def status(self, text: str) -> bool:
        return self.send(f"STATUS={text}")


def watchdog_interval(environ: dict[str, str] | None = None) -> float | None:
    """Half of WatchdogSec (systemd's advice), or None when no watchdog is asked for."""
    environ = environ if environ is not None else dict(os.environ)
    usec = environ.get("WATCHDOG_USEC")
    pid = environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return int(usec) / 1e6 / 2
    except ValueError:
        return None


class Watchdog:
    """Pings from the main loop, only while ``healthy()`` says the server works: a hung loop
    or a wedged server stops the pings and systemd restarts the service."""

    def __init__(self, notifier: Notifier, interval_s: float | None,
                 healthy: Callable[[], bool], mono: Callable[[], float] = time.monotonic) -> None:
        self._notifier = notifier
        self.interval_s = interval_s
        self._healthy = healthy
        self._mono = mono
        self._last: float | None = None

    def tick(self) -> bool:
        """Call from every turn of the main loop; returns True when a ping went out."""
        if self.interval_s is None:
            return False
        now = self._mono()
        if self._last is not None and now - self._last < self.interval_s:
            return False
        if not self._healthy():
            log.error("server unhealthy: withholding the watchdog ping")
            return False
        self._last = now
        return self._notifier.send("WATCHDOG=1")
