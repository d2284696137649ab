"""sd_notify over a real datagram socket; the watchdog stops pinging when the loop hangs."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.sdnotify import Notifier, Watchdog, watchdog_interval


@pytest.fixture
def systemd_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.05)
    yield sock, path
    sock.close()


def received(sock: socket.socket) -> list[str]:
    messages = []
    while True:
        try:
            messages.append(sock.recv(4096).decode())
        except TimeoutError:
            return messages


def test_ready_status_stopping(systemd_socket: tuple[socket.socket, str]) -> None:
    sock, path = systemd_socket
    notifier = Notifier(path)
    assert notifier.ready("2 lines") and notifier.stopping()
    assert received(sock) == ["READY=1\nSTATUS=2 lines", "STOPPING=1"]


def test_without_systemd_nothing_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert Notifier().ready() is False


def test_watchdog_interval_is_half_of_watchdog_sec() -> None:
    assert watchdog_interval({"WATCHDOG_USEC": "60000000"}) == 30.0
    assert watchdog_interval({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_interval({}) is None


def test_a_hung_main_loop_stops_the_pings(systemd_socket: tuple[socket.socket, str]) -> None:
    sock, path = systemd_socket
    watchdog = Watchdog(Notifier(path), 0.05, healthy=lambda: True)
    hang = threading.Event()
    stop = threading.Event()

    def main_loop() -> None:
        while not stop.is_set():
            if hang.is_set():
                stop.wait()  # the loop is stuck: no more ticks
            watchdog.tick()
            time.sleep(0.01)

    thread = threading.Thread(target=main_loop, daemon=True)
    thread.start()
    time.sleep(0.4)
    assert received(sock).count("WATCHDOG=1") >= 3
    hang.set()
    time.sleep(0.1)
    received(sock)  # drain pings sent before the hang took hold
    time.sleep(0.4)
    assert received(sock) == []
    stop.set()
    thread.join(2)


def test_an_unhealthy_server_gets_no_ping(systemd_socket: tuple[socket.socket, str]) -> None:
    sock, path = systemd_socket
    healthy = [True]
    watchdog = Watchdog(Notifier(path), 0.0, healthy=lambda: healthy[0])
    assert watchdog.tick()
    healthy[0] = False
    assert not watchdog.tick()
    assert received(sock) == ["WATCHDOG=1"]
