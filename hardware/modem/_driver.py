"""The thread that owns the serial port. Everything else talks to it through commands.

One thread opens the port, writes what the command core hands out, reads, and dispatches
results and URCs, in order, on itself. Callbacks run on this thread and must not block: they
may :meth:`Driver.submit` more commands. Other threads use the blocking :meth:`execute`.

Recovery: a command that times out is followed by an ``AT`` probe; when the probe times out
too the port is closed and opened again. A port that fails (``SerialException`` on unplug)
is reopened with bounded exponential backoff; the owner hears ``on_link(False, reason)`` and,
once it is back, ``on_link(True, "")`` so it can run the module's init again.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import serial

from ._commands import SHORT_S, Command, CommandCore, Done, Response, UrcEvent
from ._parser import Urc

log = logging.getLogger(__name__)

Opener = Callable[[str, int, float], Any]


def open_port(port: str, baud: int, read_timeout: float) -> serial.SerialBase:
    """pyserial, as for any module: a device path or a URL (``socket://``, ``spy://``).
    Flow control is left at pyserial's defaults: forcing rtscts/dsrdtr makes 3-wire UARTs
    time out on every command."""
    if "://" in port:
        return serial.serial_for_url(port, baudrate=baud, timeout=read_timeout)
    # exclusive: a second process (ModemManager, another edgecall) on the same port would
    # steal half the responses.
    return serial.Serial(port, baudrate=baud, timeout=read_timeout, exclusive=True)


@dataclass
class LinkStats:
    state: str = "connecting"  # connecting, up, down
    detail: str = ""
    opened: int = 0
    timeouts: int = 0
    reopen_after_timeout: int = 0
    last_error: str = ""
    since: float = field(default_factory=time.monotonic)


class Driver:
    def __init__(self, port: str, baud: int = 115200, *,
                 on_urc: Callable[[Urc], None],
                 on_link: Callable[[bool, str], None],
                 opener: Opener = open_port,
                 backoff: tuple[float, float] = (0.2, 5.0),
                 probe_timeout: float = SHORT_S,
                 read_timeout: float = 0.1,
                 name: str = "modem") -> None:
        self.port = port
        self.baud = baud
        self._on_urc = on_urc
        self._on_link = on_link
        self._opener = opener
        self._backoff = backoff
        self._probe_timeout = probe_timeout
        self._read_timeout = read_timeout
        self._core = CommandCore()
        self._inbox: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._timer_seq = itertools.count()
        self._timer_lock = threading.Lock()
        self._ser: Any = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"{name}-port", daemon=True)
        self._probing: Command | None = None
        self.stats = LinkStats()

    # ------------------------------------------------------------------ any thread

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(5)

    @property
    def on_port_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def submit(self, command: Command) -> None:
        self._inbox.put(command)
        self._wake()

    def execute(self, text: str, *, expect: tuple[str, ...] = (), timeout: float = SHORT_S,
                **kwargs: Any) -> Response:
        """Run one command and wait for its result (never from the port thread)."""
        if self.on_port_thread:
            raise RuntimeError("execute() would deadlock on the port thread; use submit()")
        done = threading.Event()
        box: list[Response] = []

        def finished(response: Response) -> None:
            box.append(response)
            done.set()

        if self._stop.is_set():
            return Response(False, [], "CANCELLED")
        self.submit(Command(text, expect=expect, timeout=timeout, on_done=finished, **kwargs))
        # The core times the command out from its write; this wait only guards against a
        # driver that stops meanwhile (queue time plus the command's timeout plus a reopen).
        limit = time.monotonic() + timeout + 30.0
        while not done.wait(0.5):
            if (self._stop.is_set() and not self._thread.is_alive()) or time.monotonic() > limit:
                return Response(False, [], "CANCELLED")
        return box[0]

    def call_later(self, delay: float, action: Callable[[], None]) -> None:
        with self._timer_lock:
            heapq.heappush(self._timers, (time.monotonic() + delay, next(self._timer_seq),
                                          action))
        self._wake()

    def interrupt(self, text: str) -> None:
        """Port thread only: write ``text`` now, while a command is in flight (it aborts a dial
        waiting for its result; see ``CommandCore.interrupt``)."""
        self._core.interrupt(text)

    def abandon_in_flight(self) -> None:
        """Port thread only: the module restarted, so the command in flight has no answer
        coming."""
        for event in self._core.abandon("MODULE RESTARTED"):
            self._dispatch(event)

    def _wake(self) -> None:
        ser = self._ser
        cancel = getattr(ser, "cancel_read", None)
        if cancel is not None:
            # A closing port may refuse; the loop's read timeout then wakes it anyway.
            with contextlib.suppress(Exception):
                cancel()

    # ------------------------------------------------------------------ the port thread

    def _run(self) -> None:
        delay = self._backoff[0]
        while not self._stop.is_set():
            if self._ser is None:
                try:
                    self._ser = self._opener(self.port, self.baud, self._read_timeout)
                except (serial.SerialException, OSError, ValueError) as exc:
                    self._down(f"cannot open {self.port}: {_short(exc)}")
                    self._stop.wait(delay)
                    delay = min(delay * 2, self._backoff[1])
                    continue
                delay = self._backoff[0]
                self.stats.opened += 1
                self.stats.state, self.stats.detail = "up", ""
                self.stats.since = time.monotonic()
                self._safe(self._on_link, True, "")
            try:
                self._turn()
            except (serial.SerialException, OSError) as exc:
                self._lost(f"port failed: {_short(exc)}")
            except Exception:  # a bug in a callback must not end the port thread
                log.exception("modem port thread")
        self._close()
        for event in self._core.reset():
            self._dispatch(event)
        while True:  # submitted after the last turn: nobody will write them now
            try:
                command = self._inbox.get_nowait()
            except queue.Empty:
                break
            if command.on_done is not None:
                self._safe(command.on_done, Response(False, [], "CANCELLED"))

    def _turn(self) -> None:
        while True:
            try:
                self._core.submit(self._inbox.get_nowait())
            except queue.Empty:
                break
        self._run_timers()
        out = self._core.take_output(time.monotonic())
        if out:
            self._ser.write(out)
        waiting = self._ser.in_waiting
        data = self._ser.read(waiting or 1)
        now = time.monotonic()
        events = self._core.receive(data, now) if data else []
        events += self._core.tick(now)
        for event in events:
            self._dispatch(event)

    def _run_timers(self) -> None:
        now = time.monotonic()
        due: list[Callable[[], None]] = []
        with self._timer_lock:
            while self._timers and self._timers[0][0] <= now:
                due.append(heapq.heappop(self._timers)[2])
        for action in due:
            self._safe(action)

    def _dispatch(self, event: Done | UrcEvent) -> None:
        if isinstance(event, UrcEvent):
            self._safe(self._on_urc, event.urc)
            return
        command, response = event.command, event.response
        if command is self._probing:
            self._probing = None
            if response.timed_out:
                self._reopen("the module stopped answering (AT probe timed out)")
                return
        elif response.timed_out:
            self.stats.timeouts += 1
            log.warning("modem: %s timed out", command_name(command.text))
            if self._probing is None:
                # Is the module there at all? Probe before anything else queued.
                self._probing = Command("AT", timeout=self._probe_timeout)
                self._core.submit(self._probing, first=True)
        if command.on_done is not None:
            self._safe(command.on_done, response)

    def _reopen(self, reason: str) -> None:
        self.stats.reopen_after_timeout += 1
        self._lost(reason)

    def _lost(self, reason: str) -> None:
        log.warning("modem: %s; reopening %s", reason, self.port)
        self.stats.last_error = reason
        self._close()
        self._down(reason)
        self._probing = None
        for event in self._core.reset():
            self._dispatch(event)
        self._safe(self._on_link, False, reason)
        self._stop.wait(self._backoff[0])

    def _down(self, detail: str) -> None:
        if self.stats.state != "down":
            self.stats.since = time.monotonic()
        self.stats.state, self.stats.detail = "down", detail
        self.stats.last_error = detail

    def _close(self) -> None:
        ser, self._ser = self._ser, None
        if ser is not None:
            with contextlib.suppress(Exception):  # an unplugged port may fail to close
                ser.close()

    def _safe(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("modem callback %s", getattr(fn, "__name__", fn))


def command_name(text: str) -> str:
    """What a log may say of a command: its name, never its arguments (``ATD<number>;``
    carries the number dialled, ``AT+CMGS`` the recipient)."""
    upper = text.upper()
    if upper.startswith("ATD"):
        return "ATD"
    return text.split("=")[0]


def _short(exc: BaseException) -> str:
    return str(exc).split("\n")[0][:160] or type(exc).__name__
