"""Calling out in a few labelled lines, the same for ``edgecall status``, the status page and
doctor: callbacks waiting and the oldest wait, attempts and placed-call minutes today,
campaign progress."""

from __future__ import annotations

import time
from datetime import datetime

from edge.clock import format_utc
from edge.store import Store
from edge.words import plural

from ._policy import OutboundPolicy, day_start


def waiting_hours(oldest_utc: str | None, now: float) -> float | None:
    if not oldest_utc:
        return None
    return max(0.0, now - datetime.fromisoformat(oldest_utc.replace("Z", "+00:00")).timestamp()
               ) / 3600


def _age(utc: str, now: float) -> str:
    seconds = max(0.0, now - datetime.fromisoformat(utc.replace("Z", "+00:00")).timestamp())
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def outbound_lines(store: Store, policy: OutboundPolicy | None = None,
                   now: float | None = None) -> list[tuple[str, str]]:
    """Nothing when the box has never queued a call."""
    now = time.time() if now is None else now
    policy = policy or OutboundPolicy()
    if not store.query("SELECT 1 FROM outbound LIMIT 1"):
        return []
    summary = store.reads.outbound_summary(format_utc(day_start(now, policy)))
    waiting = plural(summary["callbacks_waiting"], "callback")
    if summary["oldest_waiting_utc"]:
        waiting += f", the oldest waiting {_age(summary['oldest_waiting_utc'], now)}"
    lines = [("callbacks waiting", waiting),
             ("calls placed today", f"{plural(summary['attempts'], 'attempt')}, "
              f"{summary['minutes']:g} of {policy.daily_minutes:g} minutes")]
    for campaign in store.reads.campaigns():
        jobs = campaign["jobs"]
        waiting_jobs = sum(jobs.get(s, 0) for s in ("pending", "dialling", "paused"))
        lines.append((f"campaign {campaign['name']}",
                      f"{campaign['status']}, {jobs.get('done', 0)} of {campaign['numbers']} "
                      f"reached, {waiting_jobs} waiting"))
    return lines
