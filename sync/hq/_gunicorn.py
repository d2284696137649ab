"""``edgecall hq serve`` in production: the Bottle app under gunicorn.

Why gunicorn: a pre-fork server that has been kept up for over a decade, in Debian and on
PyPI, pure Python, with the knobs a server facing boxes on GPRS needs. Its ``gthread``
workers (here with the two hardenings of ``_worker``) hand a request to a thread only when
bytes arrive (an idle or slow connection waits in the worker's poller, bounded by
``worker_connections``, not in a thread), and never read without a timeout; several
processes give the CPU-bound work (xz, decoding) every core, which threads under one
interpreter cannot; a worker that hangs is replaced. Each worker opens its own storage after
the fork (database connections are never shared across processes)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication

log = logging.getLogger("edgecall.hq")


class HqApplication(BaseApplication):  # type: ignore[misc]
    def __init__(self, factory: Callable[[], Any], options: dict[str, Any]) -> None:
        self.factory = factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.factory()


def options(bind: str, workers: int, threads: int, max_connections: int,
            ready: Callable[[str], None], certfile: str = "", keyfile: str = "") -> dict[str, Any]:
    """gunicorn settings (https://docs.gunicorn.org/en/stable/settings.html)."""

    def when_ready(server: Any) -> None:
        host, port = server.LISTENERS[0].sock.getsockname()[:2]
        ready(f"{host}:{port}")

    opts: dict[str, Any] = {
        "bind": [bind],
        "workers": workers,
        "worker_class": "sync.hq._worker.HqWorker",  # gthread, hardened (see there)
        "threads": threads,
        "worker_connections": max_connections,
        "keepalive": 75,  # a box on GPRS drains several batches over one connection
        "timeout": 120,  # a worker silent this long is replaced
        "graceful_timeout": 30,
        "limit_request_line": 4096,
        "limit_request_fields": 40,
        "limit_request_field_size": 4096,
        "accesslog": None,  # the app logs one line per batch itself
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "edgecall-hq",
        "when_ready": when_ready,
        "max_requests": 100_000,  # workers are renewed now and then (memory fragmentation)
        "max_requests_jitter": 10_000,
    }
    if certfile:
        opts["certfile"] = certfile
        opts["keyfile"] = keyfile or certfile
    return opts
