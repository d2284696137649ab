"""The calling policy with an injected clock: hours in the box's zone across a DST change,
retries per outcome, order, the daily cap, lines kept for callers, the misfire rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from datetime import time as clock_time

from edge.config import CORE_SECTIONS
from edge.outbound import (
    Job,
    OutboundPolicy,
    decide,
    in_calling_hours,
    next_opening,
    policy_from_settings,
    retry_at,
)


def at(text: str) -> float:
    return datetime.fromisoformat(text).astimezone(UTC).timestamp()


def local(epoch: float, zone: str) -> str:
    from zoneinfo import ZoneInfo

    return datetime.fromtimestamp(epoch, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


NAIROBI = OutboundPolicy(timezone="Africa/Nairobi")
BERLIN = OutboundPolicy(timezone="Europe/Berlin")


def test_calling_hours_are_local() -> None:
    assert in_calling_hours(at("2026-12-02T05:30:00+00:00"), NAIROBI)  # 08:30 in Nairobi
    assert not in_calling_hours(at("2026-12-02T04:30:00+00:00"), NAIROBI)  # 07:30
    assert not in_calling_hours(at("2026-12-02T17:00:00+00:00"), NAIROBI)  # 20:00 closes
    evening = at("2026-12-02T18:00:00+00:00")
    assert local(next_opening(evening, NAIROBI), "Africa/Nairobi") == "2026-12-03 08:00 EAT"


def test_next_opening_follows_the_local_clock_over_a_dst_change() -> None:
    # Europe/Berlin moves from UTC+1 to UTC+2 on 2026-03-29; the opening stays 08:00 local.
    saturday_night = at("2026-03-28T21:00:00+00:00")
    opening = next_opening(saturday_night, BERLIN)
    assert local(opening, "Europe/Berlin") == "2026-03-29 08:00 CEST"
    assert opening == at("2026-03-29T06:00:00+00:00")
    # ... and back in autumn (2026-10-25): 08:00 CET is 07:00 UTC.
    assert next_opening(at("2026-10-24T20:00:00+00:00"), BERLIN) == \
        at("2026-10-25T07:00:00+00:00")


def test_a_window_over_midnight() -> None:
    night = OutboundPolicy(hours_start=clock_time(22, 0), hours_end=clock_time(6, 0))
    assert in_calling_hours(at("2026-12-02T23:00:00+00:00"), night)
    assert in_calling_hours(at("2026-12-03T05:59:00+00:00"), night)
    assert not in_calling_hours(at("2026-12-03T12:00:00+00:00"), night)
    assert next_opening(at("2026-12-03T12:00:00+00:00"), night) == \
        at("2026-12-03T22:00:00+00:00")


def test_retries_per_outcome_inside_hours_and_up_to_max_attempts() -> None:
    now = at("2026-12-02T09:00:00+00:00")  # 12:00 in Nairobi
    assert retry_at("busy", 1, now, NAIROBI) == now + 600
    assert retry_at("no-answer", 1, now, NAIROBI) == now + 1800
    assert retry_at("answered", 1, now, NAIROBI) is None
    assert retry_at("busy", 3, now, NAIROBI) is None  # max_attempts reached
    late = at("2026-12-02T16:55:00+00:00")  # 19:55: the retry falls after hours
    assert local(retry_at("busy", 1, late, NAIROBI), "Africa/Nairobi") == "2026-12-03 08:00 EAT"


def _job(name: str, kind: str, created: float, due: float | None = None) -> Job:
    return Job(name, kind, created, created if due is None else due, 0)


def test_order_cut_calls_first_then_oldest() -> None:
    now = at("2026-12-02T09:00:00+00:00")
    jobs = [_job("camp", "campaign", now - 900), _job("old", "missed", now - 600),
            _job("new", "missed", now - 60), _job("cut", "cut", now - 30)]
    decision = decide(now, jobs, NAIROBI, free_lines=4, outbound_active=0, minutes_today=0)
    assert decision.dial == ("cut", "old")  # max_outbound = 2


def test_lines_kept_for_callers_and_the_daily_cap() -> None:
    now = at("2026-12-02T09:00:00+00:00")
    jobs = [_job("a", "missed", now - 60), _job("b", "missed", now - 30)]
    held = decide(now, jobs, NAIROBI, free_lines=1, outbound_active=0, minutes_today=0)
    assert held.dial == () and held.held_by == "lines"  # the one free line is for callers
    one = decide(now, jobs, NAIROBI, free_lines=2, outbound_active=0, minutes_today=0)
    assert one.dial == ("a",)
    capped = decide(now, jobs, NAIROBI, free_lines=4, outbound_active=0, minutes_today=120)
    assert capped.dial == () and capped.held_by == "minutes"
    assert local(capped.next_check, "Africa/Nairobi") == "2026-12-03 08:00 EAT"


def test_after_hours_jobs_wait_for_the_opening() -> None:
    night = at("2026-12-02T20:00:00+00:00")  # 23:00 in Nairobi
    decision = decide(night, [_job("a", "missed", night - 60)], NAIROBI, free_lines=4,
                      outbound_active=0, minutes_today=0)
    assert decision.dial == () and decision.held_by == "hours"
    assert local(decision.next_check, "Africa/Nairobi") == "2026-12-03 08:00 EAT"


def test_misfire_rule_after_a_long_power_cut() -> None:
    # The box was off for three days: jobs older than expire_after (48 h) expire, the rest are
    # placed now, oldest first.
    now = at("2026-12-05T09:00:00+00:00")
    jobs = [_job("ancient", "missed", now - 3 * 86400), _job("recent", "missed", now - 3600,
                                                             due=now - 1800)]
    decision = decide(now, jobs, NAIROBI, free_lines=4, outbound_active=0, minutes_today=0)
    assert decision.expire == ("ancient",) and decision.dial == ("recent",)


def test_nothing_due_says_when_to_look_again() -> None:
    now = at("2026-12-02T09:00:00+00:00")
    decision = decide(now, [_job("a", "busy", now - 60, due=now + 540)], NAIROBI,
                      free_lines=4, outbound_active=0, minutes_today=0)
    assert decision.dial == () and decision.next_check == now + 540


def test_the_reserved_line_calls_back_once_callbacks_wait_for_a_line() -> None:
    # 4 lines, one kept for callers: while the backlog is fresh the reserve holds; once a due
    # callback has waited lend_reserve_after_s, every free line calls back.
    policy = replace(NAIROBI, max_outbound=4, lend_reserve_after_s=120.0)
    now = at("2026-12-02T09:00:00+00:00")
    fresh = [_job("a", "missed", now - 60), _job("b", "missed", now - 30)]
    held = decide(now, fresh, policy, free_lines=1, outbound_active=3, minutes_today=0)
    assert held.dial == () and held.held_by == "lines" and held.keep_free == 1
    assert held.next_check == now + 60  # when "a" will have waited 120 s
    waited = [_job("a", "missed", now - 180), _job("b", "missed", now - 30)]
    lent = decide(now, waited, policy, free_lines=1, outbound_active=3, minutes_today=0)
    assert lent.dial == ("a",) and lent.keep_free == 0
    never = decide(now, waited, replace(policy, lend_reserve_after_s=None), free_lines=1,
                   outbound_active=3, minutes_today=0)
    assert never.dial == () and never.keep_free == 1


def test_the_reserve_is_lent_only_when_busy_callers_are_called_back() -> None:
    section = next(s for s in CORE_SECTIONS if s.name == "outbound")
    settings = {k.name: k.default for k in section.keys}
    assert policy_from_settings(settings).lend_reserve_after_s == 60.0
    assert policy_from_settings({**settings, "call_back_busy": False}
                                ).lend_reserve_after_s is None
    assert policy_from_settings({**settings, "lend_reserve_after_s": 0}
                                ).lend_reserve_after_s is None
