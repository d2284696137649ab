"""A user-space link emulator (the kernel here has no netem): an asyncio TCP proxy that
delays each direction by half the round trip, limits it to a bit rate (bytes queue behind
each other as on a real narrow link), drops connections now and then, and counts bytes.

Runs its own event loop on a thread; ``LinkEmulator(...).start()``, ``.port``, ``.close()``.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from dataclasses import dataclass, field


@dataclass
class LinkStats:
    up_bytes: int = 0  # client -> server
    down_bytes: int = 0
    connections: int = 0
    drops: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def total(self) -> int:
        return self.up_bytes + self.down_bytes


class _Direction:
    """One direction of the link: a serialisation clock shared by all connections."""

    def __init__(self, rate_bps: float | None, delay_s: float) -> None:
        self.rate = rate_bps / 8 if rate_bps else None  # bytes per second
        self.delay = delay_s
        self.free_at = 0.0

    def schedule(self, size: int, now: float) -> float:
        """When the last byte of ``size`` bytes sent now arrives at the far end."""
        if self.rate is None:
            return now + self.delay
        start = max(now, self.free_at)
        self.free_at = start + size / self.rate
        return self.free_at + self.delay


class LinkEmulator:
    def __init__(self, upstream: tuple[str, int], rate_bps: float | None = None,
                 rtt_s: float = 0.0, drop_every_s: float | None = None, seed: int = 1,
                 chunk: int = 512) -> None:
        self.upstream = upstream
        self.rtt_s = rtt_s
        self.up = _Direction(rate_bps, rtt_s / 2)
        self.down = _Direction(rate_bps, rtt_s / 2)
        self.drop_every_s = drop_every_s
        self.rng = random.Random(seed)
        self.chunk = chunk
        self.stats = LinkStats()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server: asyncio.AbstractServer | None = None
        self._conns: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> LinkEmulator:
        self._thread = threading.Thread(target=self._run, name="link-emulator", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())
        self._ready.set()
        if self.drop_every_s:
            self._loop.create_task(self._dropper())
        self._loop.run_forever()
        self._loop.close()

    async def _serve(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def close(self) -> None:
        async def shutdown() -> None:
            if self._server:
                self._server.close()
            for a, b in list(self._conns):
                a.transport.abort()
                b.transport.abort()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._loop.stop()

        if self._loop.is_running():
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop)
            if self._thread is not None:
                self._thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- data path ----------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                      ) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        # The TCP handshake crosses the link too.
        await asyncio.sleep(self.rtt_s)
        pair = (writer, up_writer)
        self._conns.add(pair)
        with self.stats.lock:
            self.stats.connections += 1
        await asyncio.gather(self._pump(reader, up_writer, self.up, "up"),
                             self._pump(up_reader, writer, self.down, "down"),
                             return_exceptions=True)
        self._conns.discard(pair)
        for w in pair:
            w.close()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    direction: _Direction, name: str) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                item = await queue.get()
                if item is None:
                    break
                at, data = item
                wait = at - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if writer.is_closing():
                    return
                writer.write(data)
                await writer.drain()
            if not writer.is_closing() and writer.can_write_eof():
                writer.write_eof()

        delivery = loop.create_task(deliver())
        try:
            while True:
                data = await reader.read(self.chunk)
                if not data:
                    break
                with self.stats.lock:
                    if name == "up":
                        self.stats.up_bytes += len(data)
                    else:
                        self.stats.down_bytes += len(data)
                await queue.put((direction.schedule(len(data), loop.time()), data))
                # Back-pressure: do not read far ahead of what the link can carry.
                while direction.rate and direction.free_at - loop.time() > 2.0:
                    await asyncio.sleep(0.05)
        finally:
            await queue.put(None)
            await delivery

    async def _dropper(self) -> None:
        while True:
            assert self.drop_every_s
            await asyncio.sleep(self.rng.expovariate(1 / self.drop_every_s))
            if self._conns:
                a, b = self.rng.choice(sorted(self._conns, key=id))
                a.transport.abort()
                b.transport.abort()
                with self.stats.lock:
                    self.stats.drops += 1


def wait_port(port: int, timeout: float = 5.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
