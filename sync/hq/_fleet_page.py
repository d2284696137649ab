"""The fleet page at ``/fleet`` (and ``/fleet.json``): boxes, last seen, backlog, alerts (and,
on the page, how many requests boxes queued are in each state: ``hq requests``), laid out
for a phone like the box's status page, behind HTTP Basic auth with the
``fleet_password`` of hq.toml (the status page's check and guessing brake)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import bottle
from bottle import SimpleTemplate

from edge.web._auth import Throttle, password_ok
from edge.words import plural

from ._fleet import ago, fleet
from ._settings import HqSettings
from .perform._rules import RELEASABLE, STATES
from .storage import Storage
from .storage.request_queue import RequestQueue

REALM = "edgecall HQ"

_TEMPLATE = SimpleTemplate(r"""<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="60">
<title>edgecall fleet</title>
<style>
*{box-sizing:border-box}
body{margin:0;font:16px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
background:#f2f4f7;color:#1d2433}
header{background:#1d2433;color:#fff;padding:14px 16px}
header h1{margin:0;font-size:1.25rem}
header p{margin:4px 0 0;font-size:.85rem;opacity:.8}
main{padding:12px;max-width:960px;margin:0 auto}
.box{background:#fff;border-radius:10px;padding:12px 14px;margin-bottom:10px;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
.box h2{margin:0;font-size:1.05rem;display:flex;justify-content:space-between;gap:8px}
.muted{color:#5b6475;font-size:.85rem}
.facts{display:grid;grid-template-columns:repeat(2,1fr);gap:4px 12px;margin-top:6px;
font-size:.9rem}
@media(min-width:700px){.facts{grid-template-columns:repeat(4,1fr)}}
.pill{display:inline-block;padding:1px 8px;border-radius:999px;font-size:.8rem;font-weight:600;
margin:4px 4px 0 0}
.ok{background:#dcfce7;color:#166534}.bad{background:#fee2e2;color:#991b1b}
</style></head><body>
<header><h1>edgecall fleet</h1>
<p><span data-figure="boxes">{{plural(len(rows), 'box')}}</span> ·
<span data-figure="alerting">{{sum(1 for r in rows if r.alerts)}}</span> with alerts ·
{{now}} UTC</p></header>
<main>
% if requests:
<p class="muted" data-figure="requests">Requests boxes queued:
% for state, n in requests.items():
<span class="pill {{'bad' if state in attention else 'ok'}}"
data-state="{{state}}">{{n}} {{state}}</span>
% end
</p>
% end
% if not rows:
<p class="muted">No box enrolled yet: edgecall hq add-box NAME.</p>
% end
% for r in rows:
<div class="box" data-box="{{r.box}}">
<h2><span>{{r.box}}</span>
<span class="muted" data-figure="last-seen">{{ago(r.silent_s)}}</span></h2>
<div class="facts">
<div>backlog <b data-figure="backlog">{{'–' if r.backlog is None else r.backlog}}</b></div>
<div>clock <b>{{r.clock or '–'}}</b></div>
<div>disk <b>{{'–' if r.disk_free_mb is None else f'{r.disk_free_mb:,.0f} MB'}}</b></div>
<div>errors 1 h <b>{{'–' if r.errors_1h is None else r.errors_1h}}</b></div>
<div>last call <b>{{(r.last_call_utc or '–')[:16].replace('T', ' ')}}</b></div>
<div>version <b>{{r.version or '–'}}</b></div>
% for line in r.lines:
<div>{{line.get('name', '?')}} <b>{{line.get('state', '?')}}</b>
% if line.get('signal_dbm') is not None:
{{line.get('signal_dbm')}} dBm
% end
</div>
% end
</div>
% if r.alerts:
% for a in r.alerts:
<span class="pill bad" data-figure="alert">{{a}}</span>
% end
% else:
<span class="pill ok">ok</span>
% end
</div>
% end
</main></body></html>
""")


def add_fleet_routes(app: bottle.Bottle, storage: Storage, settings: HqSettings
                     ) -> Callable[[], None]:
    """The fleet page's routes; returns its password check (the recordings' page uses it)."""
    throttle = Throttle()
    lock = threading.Lock()
    queue = RequestQueue(storage)  # what came of the requests boxes queued (hq perform)

    def authenticate() -> None:
        client = bottle.request.remote_addr or "?"
        auth = bottle.request.auth
        with lock:
            if throttle.blocked(client, time.monotonic()):
                raise bottle.HTTPError(429, "Too many wrong passwords; wait a minute.")
            if auth is not None and password_ok(auth[1], settings.fleet_password):
                throttle.succeeded(client)
                return
            if auth is not None:
                throttle.failed(client, time.monotonic())
        error = bottle.HTTPError(401, "Password required.")
        error.add_header("WWW-Authenticate", f'Basic realm="{REALM}", charset="UTF-8"')
        raise error

    def rows():  # type: ignore[no-untyped-def]
        now = datetime.fromtimestamp(settings.wall(), UTC)
        return now, fleet(storage.boxes(), now, settings.alerts)

    @app.get("/fleet")
    def page() -> str:
        authenticate()
        bottle.response.set_header("Cache-Control", "no-store")
        now, boxes = rows()
        counts = queue.counts()
        return _TEMPLATE.render(rows=boxes, ago=ago, plural=plural,
                                now=now.strftime("%Y-%m-%d %H:%M"),
                                requests={s: counts[s] for s in STATES if counts.get(s)},
                                attention=RELEASABLE)

    @app.get("/fleet.json")
    def as_json() -> str:
        authenticate()
        bottle.response.set_header("Cache-Control", "no-store")
        bottle.response.content_type = "application/json"
        return json.dumps([r.to_json() for r in rows()[1]])

    return authenticate
