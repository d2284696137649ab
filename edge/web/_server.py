"""The thread that serves the page: the standard library's WSGI server (threaded, so a slow
phone does not hold up the others) running the Bottle app. Bottle's own ``run()`` blocks
and cannot be stopped from another thread; ``shutdown()`` here can."""

from __future__ import annotations

import logging
import socket
import threading
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

log = logging.getLogger("edge.web")


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a hung browser connection must not block the box's shutdown
    allow_reuse_address = True  # restart at once after a crash (TIME_WAIT)


class _IPv6WSGIServer(_ThreadingWSGIServer):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    """Requests go to the log at debug level (one line), not to stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("status page %s " + format, self.client_address[0], *args)


class StatusServer:
    def __init__(self, app: Any, host: str, port: int) -> None:
        server_class = _IPv6WSGIServer if ":" in host else _ThreadingWSGIServer
        self._httpd = make_server(host, port, app, server_class=server_class,
                                  handler_class=_QuietHandler)
        self.host = host
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.25},
                                        name="status-page", daemon=True)

    def start(self) -> StatusServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class NotRunning:
    """What ``start`` returns when the page is off: a stopper that does nothing."""

    port: int | None = None

    def stop(self) -> None:
        pass
