"""doctor's look at calling out: is it on, does any line dial, how long have callbacks waited,
what was placed today (read-only on the box's database)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator

from edge.config import Config
from edge.outbound import policy_from_settings
from edge.outbound._report import waiting_hours
from edge.plugins import line_kinds
from edge.store import DB_NAME, StoreReads
from edge.words import plural

from ._result import CheckResult, ok, warn

OLD_WAIT_H = 2.0


def check_outbound(config: Config, now: float | None = None) -> Iterator[CheckResult]:
    settings = config.section("outbound")
    if not settings or not settings["enabled"]:
        return
    policy = policy_from_settings(settings)
    # A section without an ``enabled`` key ([sip]) is on when present, as the Box reads it.
    dialling = [name for name, kind in line_kinds().items()
                if kind.dials and (config.section(name) or {"enabled": False}).get("enabled", True)]
    if not dialling:
        yield warn("outbound", "[outbound] is on but no enabled line can place calls",
                   "enable a [sip] or [modem] line (both dial), or turn [outbound] off")
    database = config.data_dir / DB_NAME
    if not database.exists():
        return
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
    try:
        reads = StoreReads(conn)
        summary = reads.outbound_summary("")
    except sqlite3.Error:
        return  # the database check says what is wrong with it
    finally:
        conn.close()
    waited = waiting_hours(summary["oldest_waiting_utc"], time.time() if now is None else now)
    detail = (f"{plural(summary['callbacks_waiting'], 'callback')} waiting; calling hours "
              f"{settings['calling_hours']} ({policy.timezone}), "
              f"{policy.daily_minutes:g} minutes a day")
    if waited is not None and waited > OLD_WAIT_H:
        yield warn("outbound", f"{detail}; the oldest has waited {waited:.1f} h",
                   "check that a line can dial ('edgecall status', the line checks above), "
                   "the calling hours and [outbound] daily_minutes", waiting=waited)
    else:
        yield ok("outbound", detail, callbacks_waiting=summary["callbacks_waiting"])
