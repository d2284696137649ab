"""gunicorn's threaded worker, hardened for boxes on slow links and for hostile clients.

- A new connection waits in the worker's poller until its first bytes arrive (the stock
  worker gives it a thread for up to 5 s first: 400 idle connections then starve every
  request for minutes). Idle connections cost a file descriptor, not a thread, and are
  closed after ``keepalive`` seconds; at most ``worker_connections`` are open.
- Every blocking read of a request has a timeout (``READ_TIMEOUT_S``): a client that sends
  a header line, or a body, a byte now and then gives its thread back when it stalls.
  (The stock worker reads with no timeout once a request has started.)"""

from __future__ import annotations

import errno
import selectors
import socket
import time
from functools import partial
from typing import Any

from gunicorn.workers.gthread import TConn, ThreadWorker

READ_TIMEOUT_S = 30.0  # between two reads of one request; the app shortens it for bodies


class _TimedSocket(socket.socket):
    """A socket whose blocking mode always has a read timeout."""

    def setblocking(self, flag: bool) -> None:
        if flag:
            self.settimeout(READ_TIMEOUT_S)
        else:
            super().setblocking(False)


class HqWorker(ThreadWorker):  # type: ignore[misc]
    def accept(self, listener: Any) -> None:
        try:
            client_sock, client_addr = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        sock = _TimedSocket(client_sock.family, client_sock.type, client_sock.proto,
                            fileno=client_sock.detach())
        self.nr_conns += 1
        conn = TConn(self.cfg, sock, client_addr, listener.getsockname())  # non-blocking
        conn.timeout = time.monotonic() + self.cfg.keepalive
        self.pending_conns.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ,
                             partial(self.on_pending_socket_readable, conn))
