"""The local status page: calls, dispositions per survey, lines and signal, outbox backlog
and sync, clock quality and recent errors, for a technician on the box's LAN.

Public face: :data:`SECTION` (``[status_page]``) and :func:`start`, both plugged in through
entry points; :func:`gather`/:class:`Figures` (what is shown) and :func:`make_app` (the
Bottle app) for tests and other front ends. See docs/status-page.md.
"""

from __future__ import annotations

import logging
from functools import partial

from edge.outbound import policy_from_settings
from edge.plugins import Service, ServiceContext, status_providers

from ._app import make_app
from ._auth import SECRET_KEY, Throttle, password_ok
from ._figures import Figures, gather, recent_errors, summarise_by_survey
from ._section import SECTION
from ._server import NotRunning, StatusServer

log = logging.getLogger("edge.web")

__all__ = [
    "SECRET_KEY",
    "SECTION",
    "Figures",
    "NotRunning",
    "StatusServer",
    "Throttle",
    "gather",
    "make_app",
    "password_ok",
    "recent_errors",
    "start",
    "summarise_by_survey",
]


def start(context: ServiceContext) -> Service:
    """Serve the page in a background thread when ``[status_page]`` is present and enabled
    and the secrets file has a password; otherwise log why and return a no-op stopper."""
    settings = context.config.section(SECTION.name)
    if settings is None or not settings["enabled"]:
        return NotRunning()
    password = context.config.secrets.get(SECRET_KEY)
    if not isinstance(password, str) or not password:
        # Never serve the page without a password, even on a "trusted" LAN.
        log.error("status page not started: no %s in the secrets file %s (add "
                  '%s = "..." there, then restart)', SECRET_KEY,
                  context.config.secrets_path, SECRET_KEY)
        return NotRunning()
    outbound = context.config.section("outbound")
    figures = partial(gather, context.store, context.clock, context.lines,
                      context.config.box_id, status_providers(),
                      policy=policy_from_settings(outbound) if outbound else None)
    app = make_app(figures, password, settings["refresh_s"])
    try:
        server = StatusServer(app, settings["bind"], settings["port"])
    except OSError as exc:
        log.error("status page not started: cannot listen on %s port %s: %s",
                  settings["bind"], settings["port"], exc.strerror or exc)
        return NotRunning()
    log.info("status page on http://%s:%s/", settings["bind"], server.port)
    return server.start()
