"""When to call whom: calling hours, retries, order, caps. Pure: times are UTC epoch seconds
handed in, nothing here reads a clock, so every rule is tested with an injected time (DST
changes included).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

# What an attempt can come to. ``answered`` ends the job; the others are retried per policy.
OUTCOMES = ("answered", "busy", "no-answer", "rejected", "failed", "unreachable")
KINDS = ("cut", "missed", "busy", "requested", "campaign")

DEFAULT_RETRY_S: Mapping[str, float] = {
    "busy": 600.0, "no-answer": 1800.0, "rejected": 86_400.0, "failed": 900.0,
    "unreachable": 3600.0,
}
# Order among due jobs: calls cut mid-survey first (the caller was in the middle of
# answering), then callbacks, then campaigns; oldest first within each.
DEFAULT_ORDER = ("cut", "missed", "busy", "requested", "campaign")


@dataclass(frozen=True)
class OutboundPolicy:
    timezone: str = "UTC"
    hours_start: clock_time = clock_time(8, 0)
    hours_end: clock_time = clock_time(20, 0)
    retry_after_s: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_RETRY_S))
    max_attempts: int = 3
    dedup_window_s: float = 86_400.0
    max_outbound: int = 2
    reserve_inbound: int = 1
    # Once a due callback has waited this long for a line, the reserved slots call back too
    # (None: never). Only where a caller who then finds every line busy is called back.
    lend_reserve_after_s: float | None = None
    daily_minutes: float = 120.0
    ring_timeout_s: float = 30.0
    expire_after_s: float = 2 * 86_400.0
    order: Sequence[str] = DEFAULT_ORDER

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class Job:
    """What the policy needs to know of a queued call."""

    id: str
    kind: str
    created: float
    due: float
    attempts: int


@dataclass(frozen=True, slots=True)
class Decision:
    """``dial``: jobs to call now, in order. ``expire``: jobs too old to call (the misfire rule).
    ``next_check``: when something may become possible (None: nothing is waiting)."""

    dial: tuple[str, ...]
    expire: tuple[str, ...]
    next_check: float | None
    held_by: str | None = None  # why due jobs wait: "hours", "lines", "minutes"
    keep_free: int = 0  # call slots the dials must leave free for callers


def _local(now: float, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(now, UTC).astimezone(zone)


def in_calling_hours(now: float, policy: OutboundPolicy) -> bool:
    local = _local(now, policy.zone).time()
    if policy.hours_start <= policy.hours_end:
        return policy.hours_start <= local < policy.hours_end
    return local >= policy.hours_start or local < policy.hours_end  # a window over midnight


def next_opening(now: float, policy: OutboundPolicy) -> float:
    """The first moment at or after ``now`` inside calling hours. Wall-clock arithmetic in the
    box's zone, so a DST change moves the opening with the local clock, not by an hour."""
    if in_calling_hours(now, policy):
        return now
    zone = policy.zone
    day = _local(now, zone).date()
    for offset in range(3):
        opening = datetime.combine(day + timedelta(days=offset), policy.hours_start, zone)
        # A start time that does not exist (skipped by DST) resolves forward through UTC.
        epoch = opening.astimezone(UTC).timestamp()
        if epoch > now and in_calling_hours(epoch, policy):
            return epoch
    raise ValueError("calling hours never open")  # pragma: no cover - start != end guarded


def day_start(now: float, policy: OutboundPolicy) -> float:
    """Local midnight of ``now``'s day in the box's zone: the daily cap counts from here."""
    local = _local(now, policy.zone)
    midnight = datetime.combine(local.date(), clock_time(0), policy.zone)
    return midnight.astimezone(UTC).timestamp()


def retry_at(outcome: str, attempts: int, now: float, policy: OutboundPolicy) -> float | None:
    """When to try again after an attempt that came to ``outcome`` (``attempts`` made so far,
    this one included); None when the job is over (answered, or out of attempts)."""
    if outcome == "answered" or attempts >= policy.max_attempts:
        return None
    wait = policy.retry_after_s.get(outcome, policy.retry_after_s.get("failed", 900.0))
    return next_opening(now + wait, policy)


def _rank(job: Job, policy: OutboundPolicy) -> tuple[int, float, str]:
    order = list(policy.order)
    kind_rank = order.index(job.kind) if job.kind in order else len(order)
    return (kind_rank, job.created, job.id)


def decide(now: float, jobs: Sequence[Job], policy: OutboundPolicy, *, free_lines: int,
           outbound_active: int, minutes_today: float) -> Decision:
    """Which queued jobs to call now.

    ``free_lines``: calls the box could still take now (inbound and outbound share them);
    ``reserve_inbound`` of them stay free for callers, unless a due job has waited
    ``lend_reserve_after_s`` (a backlog: then every line calls back). ``outbound_active``: outbound
    calls up now. Jobs older than ``expire_after_s`` expire instead of being called (after a
    box was off for days, its callers have moved on).
    """
    expire = tuple(j.id for j in jobs if now - j.created > policy.expire_after_s)
    waiting = sorted((j for j in jobs if j.id not in expire), key=lambda j: _rank(j, policy))
    due = [j for j in waiting if j.due <= now]
    later = min((j.due for j in waiting if j.due > now), default=None)
    if not due:
        return Decision((), expire, later)
    if not in_calling_hours(now, policy):
        return Decision((), expire, next_opening(now, policy), "hours")
    if minutes_today >= policy.daily_minutes:
        tomorrow = day_start(now, policy) + 86_400.0 + 3600.0  # past any DST shift
        return Decision((), expire, next_opening(day_start(tomorrow, policy), policy),
                        "minutes")
    keep_free = policy.reserve_inbound
    lend_after = policy.lend_reserve_after_s
    if lend_after is not None and any(now - j.due >= lend_after for j in due):
        # A backlog: an idle reserved line only delays it, and a caller who finds every
        # line busy meanwhile is queued for a callback like the rest.
        keep_free = 0
    slots = min(policy.max_outbound - outbound_active, free_lines - keep_free)
    if slots <= 0:
        # A call ending wakes the dispatcher; so does the moment the reserve may be lent.
        lend_at = None if lend_after is None or keep_free == 0 else min(
            j.due for j in due) + lend_after
        return Decision((), expire, lend_at, "lines", keep_free)
    return Decision(tuple(j.id for j in due[:slots]), expire, later, keep_free=keep_free)


def policy_from_settings(settings: Mapping[str, Any]) -> OutboundPolicy:
    """The ``[outbound]`` section as a policy."""
    start, end = str(settings["calling_hours"]).split("-")
    end = "23:59:59.999999" if end == "24:00" else end  # "00:00-24:00": the whole day
    failed = float(settings["retry_failed_s"])
    return OutboundPolicy(
        timezone=str(settings["timezone"]),
        hours_start=clock_time.fromisoformat(start),
        hours_end=clock_time.fromisoformat(end),
        retry_after_s={"busy": float(settings["retry_busy_s"]),
                       "no-answer": float(settings["retry_no_answer_s"]),
                       "rejected": float(settings["retry_rejected_s"]),
                       "failed": failed, "unreachable": failed},
        max_attempts=int(settings["max_attempts"]),
        dedup_window_s=float(settings["dedup_window_h"]) * 3600,
        max_outbound=int(settings["max_outbound"]),
        reserve_inbound=int(settings["reserve_inbound"]),
        # Lent only when a caller turned away by busy lines is called back, never lost.
        lend_reserve_after_s=(float(settings["lend_reserve_after_s"])
                              if settings["lend_reserve_after_s"] > 0
                              and settings["call_back_busy"] else None),
        daily_minutes=float(settings["daily_minutes"]),
        ring_timeout_s=float(settings["ring_timeout_s"]),
        expire_after_s=float(settings["expire_after_h"]) * 3600,
    )
