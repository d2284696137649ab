"""The shared RTP engine: one thread paces and receives the RTP of every call of a phone (stock
pyVoIP runs two threads per call, plus a timer thread per call in the phone).

Why one thread: with a sender and a receiver thread, every sendto() released the GIL to a
receiver busy with 5,000 packets a second at 100 calls, and each hand-back cost up to the switch
interval, so a tick's packets went out late by varying amounts (the p99.9 interval tail).

Why slots: time is cut into 2 ms ticks and each stream sends on ticks of its own phase, chosen
where the fewest streams send. A tick's packets are built first, then sent back to back, on one
monotonic schedule (start + n * 2 ms). A stall in the middle of a burst (a garbage collection,
the kernel's loopback work) then delays the few packets of one tick instead of every packet
after it. The schedule is a wheel of 60 ticks (120 ms), a whole number of packets for every
packet time we send (20, 30, 40 and 60 ms: a=ptime). Between ticks the thread reads whatever the
sockets hold, checking the clock between sockets. Streams are added and removed from any
thread; socket changes are applied on the engine's thread.

Why faults are caught per stream: one bad stream (an SDP port of 70000 once raised
OverflowError in sendto) ended the thread, and every call went silent while new calls were
still answered. An error in one stream now ends that stream's call (``on_fault``); if the thread
dies anyway, ``alive()`` says so at once (the line reports ``down`` and unhealthy) and the
thread is started again after a short delay, the calls still up carrying on.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import math
import selectors
import socket
import threading
import time
from collections.abc import Callable
from typing import Protocol

from edge.logthrottle import LogThrottle

log = logging.getLogger(__name__)
_throttled = LogThrottle(log)

TICK_S = 0.002
WHEEL = 60  # ticks: 120 ms
# epoll waits in whole milliseconds (rounded up), so the engine waits on sockets until this
# close to a tick and sleeps the rest with the nanosecond clock.
_FINE_WAIT_S = 0.001
RESTART_S = 1.0  # first restart delay after the thread died; doubles while it keeps dying
RESTART_MAX_S = 30.0
STABLE_S = 60.0  # a thread that ran this long resets the restart delay


class Stream(Protocol):
    """What the engine needs of a call's RTP stream (``_rtp.HardenedRTPClient``): its socket
    and packet time, the next packet to send and a way to send it, reading what arrived, and
    whom to tell when it fails. Declared here so the engine does not import the streams."""

    sin: socket.socket
    inPort: int  # pyVoIP's name
    ptime: int
    NSD: bool
    on_fault: Callable[[str], None] | None

    def next_packet(self) -> bytes | None: ...

    def send_packet(self, packet: bytes) -> bool: ...

    def receive_ready(self) -> None: ...

    def close_socket(self) -> None: ...


class RtpEngine:
    """See the module docstring."""

    SLOTS = 10  # ticks per 20 ms

    def __init__(self) -> None:
        self._wheel: list[list[Stream]] = [[] for _ in range(WHEEL)]
        self._places: dict[Stream, tuple[int, ...]] = {}
        self._lock = threading.Lock()
        self._pending: collections.deque[tuple[str, Stream]] = collections.deque()
        self._halt = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self.threads: list[threading.Thread] = []
        self.faults = 0  # streams ended by an error of their own
        self.restarts = 0
        self.failure: str | None = None  # why the thread last died
        self._started_at = 0.0
        self._restart_delay = RESTART_S
        self._restart_at = 0.0

    # --- life cycle ------------------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            if not self.threads:
                self._spawn()

    def _spawn(self) -> None:  # with the lock held
        t = threading.Thread(target=self._main, name="rtp-engine", daemon=True)
        self.threads = [t]
        self._started_at = time.monotonic()
        t.start()

    def alive(self) -> bool:
        """The thread is running (False while it is dead and waiting to be restarted)."""
        return any(t.is_alive() for t in self.threads) and not self._halt.is_set()

    def ensure_running(self) -> bool:
        """Restart a dead thread once its restart delay has passed; True when it runs."""
        with self._lock:
            if self._halt.is_set() or not self.threads:
                return False
            if any(t.is_alive() for t in self.threads):
                return True
            if time.monotonic() < self._restart_at:
                return False
            self.restarts += 1
            log.warning("RTP engine restarted (%d streams carry on)", len(self._places))
            self._spawn()
            return True

    def stop(self) -> None:
        self._halt.set()
        self._wake()
        for t in self.threads:
            if t is not threading.current_thread():
                t.join(timeout=1.0)
        with self._lock:
            clients = list(self._places)
            self._places.clear()
            self._wheel = [[] for _ in range(WHEEL)]
        for client in clients:
            with contextlib.suppress(OSError):
                client.close_socket()
        self._wake_r.close()
        self._wake_w.close()

    # --- streams (any thread) --------------------------------------------------------------

    def add(self, client: Stream) -> None:
        with self._lock:
            self._place(client)
            self._pending.append(("add", client))
        self._wake()
        self.ensure_running()

    def remove(self, client: Stream) -> None:
        with self._lock:
            self._unplace(client)
            self._pending.append(("remove", client))
            running = any(t.is_alive() for t in self.threads)
        self._wake()
        if self._halt.is_set() or not running:
            with contextlib.suppress(OSError):
                client.close_socket()

    def retime(self, client: Stream) -> None:
        """The stream's packet time changed (a re-INVITE's a=ptime): new phase, same socket."""
        with self._lock:
            if client in self._places:
                self._unplace(client)
                self._place(client)

    def streams(self) -> int:
        return len(self._places)

    def slot_loads(self) -> list[int]:
        """How many streams send in each 2 ms slot of a 20 ms period."""
        return [len(self._wheel[i]) for i in range(self.SLOTS)]

    def _place(self, client: Stream) -> None:  # with the lock held
        # Copy on write: the engine iterates a tick's list without the lock.
        interval = max(1, round(client.ptime / 1000 / TICK_S))
        phase = min(range(interval), key=lambda p: (
            max(len(self._wheel[i]) for i in range(p, WHEEL, interval)), p))
        places = tuple(range(phase, WHEEL, interval))
        for i in places:
            self._wheel[i] = [*self._wheel[i], client]
        self._places[client] = places

    def _unplace(self, client: Stream) -> None:  # with the lock held
        for i in self._places.pop(client, ()):
            self._wheel[i] = [c for c in self._wheel[i] if c is not client]

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    # --- the thread ------------------------------------------------------------------------

    def _main(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # whatever ended it, the calls must not stay silent
            if self._halt.is_set():
                return
            with self._lock:
                if time.monotonic() - self._started_at > STABLE_S:
                    self._restart_delay = RESTART_S
                delay = self._restart_delay
                self._restart_delay = min(delay * 2, RESTART_MAX_S)
                self._restart_at = time.monotonic() + delay
                self.failure = f"{type(exc).__name__}: {exc}"
            log.error("RTP engine thread died (%s); restarting it in %.0f s", self.failure,
                      delay, exc_info=exc)
            timer = threading.Timer(delay, self.ensure_running)
            timer.daemon = True
            timer.start()

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._wake_r, selectors.EVENT_READ, None)
        with self._lock:
            current = list(self._places)
        for client in current:  # after a restart: the streams still up
            with contextlib.suppress(KeyError, ValueError, OSError):
                selector.register(client.sin, selectors.EVENT_READ, client)
        tick = 0
        deadline = time.monotonic()
        try:
            while not self._halt.is_set():
                self._apply_pending(selector)
                if not self._places:  # no call: sleep until one is added (no wake-ups)
                    self._receive(selector, 1.0, math.inf)
                    deadline = time.monotonic()
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._send(self._wheel[tick])
                    tick = (tick + 1) % WHEEL
                    deadline += TICK_S
                    if time.monotonic() - deadline > 0.2:  # starved or suspended: resync
                        deadline = time.monotonic()
                elif remaining > _FINE_WAIT_S:
                    self._receive(selector, remaining - _FINE_WAIT_S, deadline)
                else:  # read what is there, then sleep to the tick on the nanosecond timer
                    self._receive(selector, 0, deadline)
                    time.sleep(max(0.0, deadline - time.monotonic()))
        finally:
            with contextlib.suppress(Exception):
                self._apply_pending(selector)
            selector.close()

    def _send(self, clients: list[Stream]) -> None:
        outgoing = []
        for client in clients:
            if client.NSD:
                try:
                    packet = client.next_packet()
                except Exception as exc:
                    self._fault(client, exc)
                    continue
                if packet is not None:
                    outgoing.append((client, packet))
        for client, packet in outgoing:
            try:
                client.send_packet(packet)
            except Exception as exc:
                self._fault(client, exc)

    def _receive(self, selector: selectors.BaseSelector, timeout: float, deadline: float) -> None:
        for key, _ in selector.select(timeout=timeout):
            if key.data is None:
                with contextlib.suppress(OSError):
                    self._wake_r.recv(4096)
            else:
                try:
                    key.data.receive_ready()
                except Exception as exc:
                    self._fault(key.data, exc)
            if time.monotonic() >= deadline:
                return  # the tick first; sockets still readable are reported again

    def _fault(self, client: Stream, exc: Exception) -> None:
        """One stream failed: it leaves the engine and its call is ended (reported to the
        server as a remote hang-up with the reason); the other streams go on."""
        self.faults += 1
        _throttled.warning("stream-fault", "RTP stream on port %s failed (%s: %s); its call "
                           "is ended", client.inPort, type(exc).__name__, exc)
        self.remove(client)
        callback = client.on_fault
        if callback is not None:
            try:
                callback(f"media error ({type(exc).__name__})")
            except Exception:
                log.warning("ending the call of a failed RTP stream failed", exc_info=True)

    def _apply_pending(self, selector: selectors.BaseSelector) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    return
                op, client = self._pending.popleft()
            if op == "add":
                with contextlib.suppress(KeyError, ValueError, OSError):
                    selector.register(client.sin, selectors.EVENT_READ, client)
            else:
                with contextlib.suppress(KeyError, ValueError, OSError):
                    selector.unregister(client.sin)
                with contextlib.suppress(OSError):
                    client.close_socket()
