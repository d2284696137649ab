"""A small threaded WSGI server for tests and for ``hq serve --server simple`` (one process,
no fork): the standard library's, with what a server facing boxes needs and it lacks — a
bound on connections (threads), a read timeout on every socket, no per-request stderr
line. Production runs under gunicorn (``_gunicorn``)."""

from __future__ import annotations

import logging
import socket
import threading
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

log = logging.getLogger("edgecall.hq")


class _Handler(WSGIRequestHandler):
    timeout = 30.0  # socket read timeout: an idle or stalled client lets go of its thread

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.client_address[0], *args)

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        environ["edgecall.socket"] = self.connection  # read timeout and early close
        return environ


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    max_connections = 64

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._slots = threading.BoundedSemaphore(self.max_connections)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Past the bound a connection is closed at once rather than given a thread.
        if not self._slots.acquire(blocking=False):
            log.warning("HQ: %d connections already open; refusing %s",
                        self.max_connections, client_address[0])
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class _Server6(_Server):
    address_family = socket.AF_INET6


class DevServer:
    """``DevServer(app, host, port).start()``; ``url``; ``stop()``."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0,
                 max_connections: int = 64, read_timeout_s: float = 30.0) -> None:
        server_class = type("Server", (_Server6 if ":" in host else _Server,),
                            {"max_connections": max_connections})
        handler = type("Handler", (_Handler,), {"timeout": read_timeout_s})
        self.httpd = make_server(host, port, app, server_class=server_class,
                                 handler_class=handler)
        self.host = host
        self.port: int = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever,
                                        kwargs={"poll_interval": 0.2}, name="hq", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> DevServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)
