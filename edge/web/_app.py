"""The Bottle application: ``/`` (the page) and ``/status.json`` (the same figures), both
behind HTTP Basic auth. Any user name is accepted; the password is what counts."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

import bottle

from ._auth import Throttle, password_ok
from ._figures import Figures
from ._page import render

log = logging.getLogger("edge.web")

REALM = "edgecall status"


def make_app(figures: Callable[[], Figures], password: str, refresh_s: int,
             throttle: Throttle | None = None,
             monotonic: Callable[[], float] = time.monotonic) -> bottle.Bottle:
    if not password:
        raise ValueError("the status page needs a password")
    app = bottle.Bottle(catchall=True)
    throttle = throttle or Throttle()
    lock = threading.Lock()  # the server is threaded; the throttle is plain data

    @app.hook("before_request")
    def _authenticate() -> None:
        client = bottle.request.remote_addr or "?"
        auth = bottle.request.auth
        with lock:
            if throttle.blocked(client, monotonic()):
                raise bottle.HTTPError(429, "Too many wrong passwords; wait a minute.",
                                       Retry_After=str(int(throttle.window_s)))
            if auth is not None and password_ok(auth[1], password):
                throttle.succeeded(client)
                return
            if auth is not None:
                throttle.failed(client, monotonic())
                log.warning("status page: wrong password from %s", client)
        error = bottle.HTTPError(401, "Password required.")
        error.add_header("WWW-Authenticate", f'Basic realm="{REALM}", charset="UTF-8"')
        raise error

    def _no_store() -> None:
        # The figures change with every call; never show a cached copy after a reload.
        bottle.response.set_header("Cache-Control", "no-store")

    def _read() -> Figures:
        try:
            return figures()
        except Exception as exc:
            # One log line (journald), no traceback to the browser; the next reload retries.
            log.error("status page could not read the figures: %s: %s",
                      type(exc).__name__, exc)
            raise bottle.HTTPError(503, "The figures cannot be read now (see the box's log); "
                                   "this page retries by itself.",
                                   Retry_After=str(refresh_s)) from exc

    @app.get("/")
    def page() -> str:
        _no_store()
        return render(_read(), refresh_s)

    @app.get("/status.json")
    def status_json() -> str:
        _no_store()
        bottle.response.content_type = "application/json"
        return json.dumps(_read().to_json())

    return app
