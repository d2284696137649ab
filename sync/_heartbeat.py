"""The box's heartbeat to HQ: a small signed JSON document sent on the sync schedule even
when there is nothing else to send, so that HQ sees a silent box, a wrong clock, a full disk
or a line down before the data stops (HQ's fleet page and ``edgecall hq boxes``).

``POST <hq base>/v1/heartbeat`` with ``X-Edgecall-Box``, ``X-Edgecall-Timestamp`` and
``X-Edgecall-Signature`` over the body, like a batch (sync/PROTOCOL.md, "Heartbeat"). A
failed heartbeat is only logged: the next run sends a fresh one."""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from edge import __version__
from edge.clock import Clock
from edge.lines import Line
from edge.store import Store

from ._hq import base_url
from ._signing import HEADER_BOX, HEADER_SIGNATURE, HEADER_TIMESTAMP, sign

log = logging.getLogger(__name__)

HEARTBEAT_PATH = "/v1/heartbeat"


def document(store: Store, clock: Clock, lines: Sequence[Line], box: str, data_dir: Path
             ) -> dict[str, Any]:
    """What the box says about itself (never a caller number: line details are scrubbed)."""
    from edge.web._figures import _line_figures, recent_errors

    stamp = clock.now()
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    try:
        free_mb: float | None = round(shutil.disk_usage(data_dir).free / 1e6, 1)
    except OSError:
        free_mb = None
    return {
        "v": 1, "box": box, "version": __version__, "utc": stamp.utc, "clock": stamp.quality,
        "lines": [{"name": f.name, "kind": f.kind, "state": f.state,
                   "signal_dbm": f.signal_dbm, "signal": f.signal}
                  for f in (_line_figures(line) for line in lines)],
        "backlog": store.reads.backlog(), "last_call_utc": store.reads.last_call_utc(),
        "disk_free_mb": free_mb,
        "errors_1h": sum(1 for e in recent_errors(store, 1000) if e.utc >= hour_ago),
    }


class Heartbeat:
    def __init__(self, url: str, box: str, secret: bytes,
                 build: Callable[[], dict[str, Any]], verify: bool | str = True,
                 timeout: tuple[float, float] = (20.0, 60.0),
                 wall: Callable[[], float] = time.time) -> None:
        self.url = base_url(url) + HEARTBEAT_PATH
        self.box = box
        self.secret = secret
        self.build = build
        self.verify = verify
        self.timeout = timeout
        self.wall = wall
        self.sent = 0
        self.session = requests.Session()

    def send(self) -> bool:
        """One heartbeat; True when HQ took it. Never raises: it is news, not data."""
        try:
            body = json.dumps(self.build(), separators=(",", ":")).encode()
            stamp = int(self.wall() * 1000)
            response = self.session.post(self.url, data=body, timeout=self.timeout,
                                         verify=self.verify, allow_redirects=False, headers={
                                             "Content-Type": "application/json",
                                             HEADER_BOX: self.box,
                                             HEADER_TIMESTAMP: str(stamp),
                                             HEADER_SIGNATURE: sign(self.secret, stamp, body)})
        except Exception as exc:  # offline, or a figure that cannot be read now
            log.info("heartbeat to HQ not sent: %s", exc)
            return False
        if response.status_code != 200:
            log.info("heartbeat refused by HQ: HTTP %s", response.status_code)
            return False
        self.sent += 1
        return True


def schedule(context: Any, interval_s: float) -> Heartbeat | None:
    """A heartbeat job on the box's scheduler, every ``interval_s`` (the sync interval),
    when [hq] is configured; None otherwise."""
    config = context.config
    hq = config.section("hq")
    secret = config.secrets.get("hq_secret")
    if hq is None or not isinstance(secret, str) or context.scheduler is None:
        return None
    verify: bool | str = hq["verify_tls"]
    if verify and hq["ca_file"]:
        verify = str(config.resolve(hq["ca_file"]))
    beat = Heartbeat(hq["url"], config.box_id, secret.encode(),
                     lambda: document(context.store, context.clock, context.lines,
                                      config.box_id, config.data_dir),
                     verify, (hq["connect_timeout_s"], hq["read_timeout_s"]))
    context.scheduler.add_job(beat.send, "interval", seconds=interval_s, id="heartbeat",
                              max_instances=1, coalesce=True,
                              next_run_time=datetime.now(UTC) + timedelta(seconds=10),
                              misfire_grace_time=None, replace_existing=True)
    return beat
