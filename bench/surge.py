#!/usr/bin/env python3
"""Surge benchmark (issue 12): field-like demand on 4 lines, with callbacks on and with
callbacks off, measured in the same process run.

Demand: a fortnight of distinct callers (20,000 over 14 days by default), each ringing once,
spread over a daytime curve with a morning and an evening peak and growing over the
fortnight (seeded, so every run sees the same callers). Most have no credit: they ring a few
rings and hang up (a missed call); the others stay and answer the survey if a line is free.
Called back, a phone answers, is busy, does not answer or is unreachable, so retries are
exercised.

What runs is the product: a real Box (CallServer, the APScheduler dispatcher, the SQLite
store, the policy) on the simulated line with a 2-question survey. Time is compressed: the
box's clock, the simulated callers and the dispatcher's schedule all run ``--speed`` times
faster than real time. Figures are computed afterwards from what the box recorded (calls,
jobs, attempts; pseudonyms only).

The whole fortnight takes about 45 minutes at 1000x, so by default the product runs its
busiest day (the last: the growth peaks there) from the evening before, until every callback
is placed: callbacks on, then off. Each millisecond the box takes between one dial and the
next is a second of simulated line time at 1000x, so line occupancy is measured again in a
run at 200x over that day's morning surge (the queue the night left, then the morning peak).

    .venv/bin/python bench/surge.py              # about 5 minutes
    .venv/bin/python bench/surge.py --quick      # 1 day of 1,000 callers, about a minute
    .venv/bin/python bench/surge.py --fortnight  # every day, about 45 minutes

Goals: every distinct caller reached or at max attempts (none lost); callback start p50 <=
60 s when a line is free; occupancy >= 90% while callbacks are queued; >= 5x the callers
reached within 24 h compared with callbacks off. Exit status 1 when one is missed.
"""
from __future__ import annotations

import argparse
import bisect
import json
import logging
import random
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from edge.clock import Clock
from edge.config import Config, parse_config
from edge.lines.simulated import CallerScript, SimulatedLine, SimulatedPhone
from edge.outbound import OutboundPolicy, in_calling_hours, policy_from_settings, retry_at
from edge.plugins import all_sections
from edge.server import Box

LINES = 4
ZONE = "Africa/Nairobi"
START_LOCAL = datetime(2027, 3, 1, tzinfo=ZoneInfo(ZONE))  # a Monday, local midnight
# Share of callers in each local hour of the day: quiet nights, a morning peak (8-10) and an
# evening peak (17-20), as on field hotlines.
HOURLY = (1, 0.5, 0.3, 0.3, 0.5, 1.5, 4, 8, 11, 10, 7, 6, 5.5, 6, 5.5, 5.5, 7, 10, 11, 9,
          6, 4, 2.5, 1.5)
PEAK_HOURS = (8, 9, 17, 18, 19)
# A callback counts as queued once it has been due this long unplaced: waiting for a line, not
# for the dispatcher's next step (a millisecond or two on a box; multiplied by --speed here).
QUEUED_AFTER_S = 10.0
GROWTH = (0.5, 1.5)  # demand on the first and last day, relative to the fortnight's mean
# How called-back phones behave, per attempt.
PHONE_SHARES = {"answers": 0.70, "no-answer": 0.15, "busy": 0.10, "unreachable": 0.05}

SURVEY = {
    "id": "surge-checkin", "version": "1", "title": "Surge check-in", "languages": ["en"],
    "settings": {"timeout": 6, "finish_key": "#", "max_attempts": 2, "opt_out_key": "*"},
    "states": [
        {"name": "consent", "type": "yesno", "yes": "need", "no": "declined",
         "prompt": {"en": "Hello, this is the community aid line. We are calling you back. "
                          "May we ask you two short questions? Press 1 for yes, 2 for no."}},
        {"name": "need", "type": "choice",
         "prompt": {"en": "What does your household need most this week? Press 1 for food, "
                          "2 for water, 3 for shelter, 4 for health care."},
         "options": [{"key": "1", "value": "food"}, {"key": "2", "value": "water"},
                     {"key": "3", "value": "shelter"}, {"key": "4", "value": "health"}]},
        {"name": "thanks", "type": "end",
         "prompt": {"en": "Thank you. Your answer is saved and helps us plan. Goodbye."}},
        {"name": "declined", "type": "end", "disposition": "refused",
         "prompt": {"en": "Thank you for calling. Goodbye."}},
    ],
}


# -- demand (pure) -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Ring:
    at: float  # epoch s: the ring starts
    number: str
    missed: bool  # no credit: rings ``ring_s`` and hangs up
    ring_s: float


def demand(seed: int, days: int, callers: int, start: float, missed_share: float
           ) -> list[Ring]:
    """``callers`` distinct callers over ``days``: hour slots weighted by the daily curve and
    the fortnight's growth, uniform within the hour."""
    rng = random.Random(seed)
    hours = days * 24
    low, high = GROWTH
    weights = [HOURLY[h % 24] * (low + (high - low) * (h + 0.5) / hours)
               for h in range(hours)]
    slots = rng.choices(range(hours), weights=weights, k=callers)
    suffixes = rng.sample(range(10**8), callers)
    rings = [Ring(start + (slot + rng.random()) * 3600, f"+2557{suffix:08d}",
                  rng.random() < missed_share, rng.uniform(5, 20))
             for slot, suffix in zip(slots, suffixes, strict=True)]
    return sorted(rings, key=lambda r: r.at)


def caller_script(rng: random.Random) -> CallerScript:
    """A caller who listens to each prompt, thinks a moment and answers (no barge-in)."""
    return CallerScript({"consent.prompt": ["1"], "need.prompt": [rng.choice("1234")]},
                        key_delay_s=rng.uniform(8, 11), key_gap_s=0.2)


class CallbackPhones:
    """How the number the box dials answers, drawn per attempt from the seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._tries: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, number: str) -> SimulatedPhone:
        with self._lock:
            n = self._tries[number] = self._tries.get(number, 0) + 1
        rng = random.Random(f"{self.seed}:{number}:{n}")
        behaviour = rng.choices(list(PHONE_SHARES), weights=list(PHONE_SHARES.values()))[0]
        return SimulatedPhone(behaviour, rng.uniform(4, 15), caller_script(rng))


# -- simulated time ----------------------------------------------------------------------
class SimTime:
    """The box's clock, ``speed`` times faster than real time from ``start``."""

    def __init__(self, start: float, speed: float) -> None:
        self.start, self.speed = start, speed
        self._real0 = time.monotonic()

    def epoch(self) -> float:
        return self.start + (time.monotonic() - self._real0) * self.speed

    def mono(self) -> float:
        return 1000.0 + (time.monotonic() - self._real0) * self.speed

    def sleep_until(self, at: float) -> None:
        wait = (at - self.epoch()) / self.speed
        if wait > 0:
            time.sleep(wait)


# -- one run -----------------------------------------------------------------------------
@dataclass
class Settings:
    days: int  # the demand's span (the fortnight)
    callers: int
    first_day: int  # the window simulated: days first_day .. first_day + window_days - 1
    window_days: int
    speed: float
    peak_speed: float
    seed: int
    missed_share: float
    outbound: dict[str, Any] = field(default_factory=dict)

    @property
    def window(self) -> tuple[float, float]:
        """Epoch bounds of the simulated window. It opens at the close of calling hours the
        evening before, so the next morning's backlog is whole (nothing was waiting then)."""
        day0 = START_LOCAL.timestamp() + self.first_day * 86_400
        lead = 3 * 3600 if self.first_day > 0 else 0
        return day0 - lead, day0 + self.window_days * 86_400


def box_config(directory: Path, callbacks: bool, outbound: dict[str, Any]) -> Config:
    survey = directory / "survey.json"
    survey.write_text(json.dumps(SURVEY), encoding="utf-8")
    raw: dict[str, Any] = {
        "box": {"id": "surge", "data_dir": str(directory / "data")},
        "survey": {"file": str(survey)},
        "server": {"max_concurrent_calls": LINES, "shutdown_grace_s": 5.0, "min_free_mb": 0,
                   "when_busy": "reject"},
    }
    if callbacks:
        raw["outbound"] = {"enabled": True, "timezone": ZONE, **outbound}
    config = parse_config(raw, "the surge bench", all_sections())
    return Config(config.path, config.sections, {"pseudonym_key": "5e" * 32})


@dataclass
class Run:
    rings: list[Ring]
    pseudonyms: dict[str, str]  # number -> the box's pseudonym
    calls: list[dict[str, Any]]
    attempts: list[dict[str, Any]]
    jobs: list[dict[str, Any]]
    policy: OutboundPolicy | None
    real_s: float
    sim_s: float
    behind_s: float  # the latest a caller reached the box (simulated s): the harness keeping up


@dataclass(frozen=True)
class Window:
    """A stretch of the demand run on the box: ``start`` to ``end`` (epoch), ``speed`` times
    faster than real time; ``drain``: then on until no callback waits."""

    name: str
    start: float
    end: float
    speed: float
    drain: bool


def placements(rings: Sequence[Ring], window: Window, burst_before: float | None = None
               ) -> list[tuple[float, Ring]]:
    """When each caller of the window reaches the box: a missed call when the caller hangs up
    after a few rings, one who stays when it rings. With ``burst_before``: the callers who
    rang off before then reach the box one a simulated second from the window's start (the
    queue the night left; their order kept), those who stayed were answered then and are left
    out."""
    plan: list[tuple[float, Ring]] = []
    early = [r for r in rings if burst_before is not None and r.at < burst_before]
    plan += [(window.start + i, r) for i, r in enumerate(x for x in early if x.missed)]
    early_set = set(early)
    plan += sorted(((r.at + r.ring_s if r.missed else r.at, r) for r in rings
                    if r not in early_set and window.start <= r.at < window.end),
                   key=lambda p: p[0])
    return plan


def run(settings: Settings, window: Window, callbacks: bool,
        plan: Sequence[tuple[float, Ring]], directory: Path,
        out: Callable[[str], None]) -> Run:
    config = box_config(directory, callbacks, settings.outbound)
    start, end, speed = window.start, window.end, window.speed
    sim = SimTime(start, speed)
    clock = Clock(wall=sim.epoch, mono=sim.mono, boot_id="surge", synchronised=lambda: True)
    line = SimulatedLine("sim", speed=speed, phones=CallbackPhones(settings.seed))
    box = Box(config, clock=clock, lines=[line], timer_scale=1 / speed, services=False,
              time_scale=speed)
    rng = random.Random(settings.seed + 1)
    rings = [ring for _, ring in plan]
    scripts = [CallerScript(hang_up_before_answer=True) if ring.missed else caller_script(rng)
               for ring in rings]
    real0 = time.monotonic()
    box.start()
    behind = 0.0
    next_report = start + 6 * 3600
    try:
        for (at, ring), script in zip(plan, scripts, strict=True):
            sim.sleep_until(at)
            behind = max(behind, sim.epoch() - at)
            line.place_call(ring.number, script)
            if at >= next_report:
                out(f"    {_local(at)}, {time.monotonic() - real0:.0f} s")
                next_report += 6 * 3600
        sim.sleep_until(end)
        if callbacks and window.drain:  # what still waits is called (hours, retries)
            deadline = end + 2 * 86_400
            while _waiting(box) and sim.epoch() < deadline:
                time.sleep(0.05)
            box.server.wait_idle(30)
        sim_s = sim.epoch() - start
        reads = box.store.reads
        calls, attempts, jobs = reads.call_timeline(), reads.attempt_timeline(), reads.jobs()
        pseudonyms = {r.number: box.pseudonymiser.pseudonym(r.number) for r in rings}
    finally:
        box.stop(grace_s=5)
    policy = policy_from_settings(config.sections["outbound"]) if callbacks else None
    return Run(rings, pseudonyms, calls, attempts, jobs, policy, time.monotonic() - real0,
               sim_s, behind)


def _local(at: float) -> str:
    return datetime.fromtimestamp(at, ZoneInfo(ZONE)).strftime("%a %d %b %H:%M")


def _waiting(box: Box) -> bool:
    counts = box.store.reads.callback_counts()
    return bool(counts.get("pending", 0) + counts.get("dialling", 0)) or \
        box.server.active_calls > 0
# -- figures (pure: from the records) ----------------------------------------------------
def epoch(utc: str) -> float:
    return datetime.fromisoformat(utc.replace("Z", "+00:00")).timestamp()


class Steps:
    """A count over time from +1/-1 changes (calls up, callbacks waiting)."""

    def __init__(self, intervals: Iterable[tuple[float, float]]) -> None:
        changes = sorted([(a, 1) for a, b in intervals if b > a]
                         + [(b, -1) for a, b in intervals if b > a])
        self.times: list[float] = []
        self.levels: list[int] = []
        level = 0
        for at, delta in changes:
            level += delta
            if self.times and self.times[-1] == at:
                self.levels[-1] = level
            else:
                self.times.append(at)
                self.levels.append(level)

    def at(self, moment: float) -> int:
        """The level just before ``moment`` (what was up when something happened then)."""
        i = bisect.bisect_left(self.times, moment) - 1
        return self.levels[i] if i >= 0 else 0

    def integral(self, windows: Sequence[tuple[float, float]]) -> float:
        """Level-seconds inside the disjoint, sorted ``windows``."""
        total = 0.0
        for start, end in windows:
            i = bisect.bisect_right(self.times, start)  # the first change after start
            level = self.levels[i - 1] if i > 0 else 0
            t = start
            while i < len(self.times) and self.times[i] < end:
                total += level * (self.times[i] - t)
                t, level = self.times[i], self.levels[i]
                i += 1
            total += level * (end - t)
        return total

    def positive(self) -> list[tuple[float, float]]:
        """Where the level is above zero, as disjoint sorted intervals."""
        spans: list[tuple[float, float]] = []
        since = None
        for at, level in zip(self.times, self.levels, strict=True):
            if level > 0 and since is None:
                since = at
            elif level <= 0 and since is not None:
                spans.append((since, at))
                since = None
        return spans


def intersect(a: Sequence[tuple[float, float]], b: Sequence[tuple[float, float]]
              ) -> list[tuple[float, float]]:
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def local_windows(start: float, days: int, hours: Iterable[tuple[int, int]]
                  ) -> list[tuple[float, float]]:
    """(from hour, to hour) of each local day, as epoch intervals."""
    zone = ZoneInfo(ZONE)
    day0 = datetime.fromtimestamp(start, zone).replace(hour=0, minute=0, second=0,
                                                       microsecond=0)
    spans = []
    for d in range(days):
        day = day0.date().toordinal() + d
        base = datetime.fromordinal(day).replace(tzinfo=zone)
        for a, b in hours:
            spans.append((base.replace(hour=a).timestamp(),
                          base.replace(hour=b - 1, minute=59, second=59).timestamp() + 1))
    return sorted(spans)


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Figures:
    callers: int
    missed: int
    reached_24h: int
    reached: int
    at_max_attempts: int
    lost: dict[str, int]
    start_free: list[float]  # callback start after a missed call, a line free (s)
    start_all: list[float]
    occupancy_peak: float
    occupancy_queued: float | None
    occupancy_any: float | None  # over every moment a callback was due, however briefly
    queued_h: float
    turnover: list[float]
    outcomes: dict[str, int]
    answered_inbound: int
    turned_away: int


def figures(r: Run, window: Window) -> Figures:
    start, end = window.start, window.end
    days = int((end - start) // 86_400) + 3
    ring_at = {r.pseudonyms[ring.number]: ring.at for ring in r.rings}
    # Calls up at each moment: callers' calls the box took (not those turned away) and every
    # dial from its attempt row (ringing included: the slot is taken) to its end.
    inbound = [(epoch(c["started_utc"]), epoch(c["ended_utc"])) for c in r.calls
               if c["attempt"] is None and c["disposition"] != "busy" and c["ended_utc"]]
    dials = [(epoch(a["started_utc"]), epoch(a["ended_utc"])) for a in r.attempts
             if a["ended_utc"]]
    busy = Steps(inbound + dials)
    peak = intersect(local_windows(start, days, [(h, h + 1) for h in PEAK_HOURS]),
                     [(start, end)])
    occupancy_peak = busy.integral(peak) / (LINES * sum(b - a for a, b in peak))
    # Reach: a survey finished (disposition complete) within 24 h of the ring.
    reached_at: dict[str, float] = {}
    for c in r.calls:
        if c["disposition"] == "complete" and c["caller"] in ring_at:
            ended = epoch(c["ended_utc"])
            reached_at[c["caller"]] = min(reached_at.get(c["caller"], ended), ended)
    reached_24h = sum(1 for p, at in reached_at.items() if at - ring_at[p] <= 86_400)
    outcomes: dict[str, int] = {}
    for a in r.attempts:
        outcomes[a["outcome"]] = outcomes.get(a["outcome"], 0) + 1
    lost: dict[str, int] = {}
    at_max = 0
    start_free: list[float] = []
    start_all: list[float] = []
    occupancy_queued = occupancy_any = None
    queued_h = 0.0
    turnover: list[float] = []
    if r.policy is not None:
        policy = r.policy
        jobs = {j["caller"]: j for j in r.jobs}
        for p in ring_at:
            if p in reached_at:
                continue
            job = jobs.get(p)
            if job and job["status"] == "failed" and job["attempts"] >= policy.max_attempts:
                at_max += 1
            else:
                why = "no callback queued" if job is None else f"job {job['status']}"
                lost[why] = lost.get(why, 0) + 1
        # Callbacks waiting: from due (queued, or the retry time the policy gave) to the dial.
        by_job: dict[str, list[dict[str, Any]]] = {}
        for a in r.attempts:
            by_job.setdefault(a["job"], []).append(a)
        waits: list[tuple[float, float]] = []
        waits_raw: list[tuple[float, float]] = []
        created_of = {j["id"]: epoch(j["created_utc"]) for j in r.jobs}
        last_due: dict[str, float] = {}
        for job_id, tries in by_job.items():
            tries.sort(key=lambda a: a["n"])
            due = created_of[job_id]
            for a in tries:
                # Queued: due and not placed within QUEUED_AFTER_S, so waiting for a line
                # rather than for the dispatcher's next step.
                waits.append((due + QUEUED_AFTER_S, epoch(a["started_utc"])))
                waits_raw.append((due, epoch(a["started_utc"])))
                nxt = retry_at(a["outcome"], a["n"], epoch(a["ended_utc"]), policy)
                due = nxt if nxt is not None else due
            last_due[job_id] = due
        run_end = start + r.sim_s
        for j in r.jobs:  # still waiting when the run stopped (the peak run does not drain)
            if j["status"] in ("pending", "dialling"):
                due = last_due.get(j["id"], created_of[j["id"]])
                waits.append((due + QUEUED_AFTER_S, run_end))
                waits_raw.append((due, run_end))
        queued = Steps(waits_raw)
        hours = [(policy.hours_start.hour, policy.hours_end.hour or 24)]
        open_ = local_windows(start, days + 2, hours)
        queued_open = intersect(Steps(waits).positive(), open_)
        queued_s = sum(b - a for a, b in queued_open)
        queued_h = queued_s / 3600
        if queued_s:
            occupancy_queued = busy.integral(queued_open) / (LINES * queued_s)
        any_open = intersect(queued.positive(), open_)
        if any_open:
            occupancy_any = busy.integral(any_open) / (LINES * sum(b - a for a, b in any_open))
        # How long a line stays idle between one dial and the next while callbacks wait.
        dial_starts = sorted(a for a, _ in dials)
        for _, ended in dials:
            i = bisect.bisect_left(dial_starts, ended)
            if queued.at(ended) > 0 and in_calling_hours(ended, policy) and i < len(dial_starts):
                turnover.append(dial_starts[i] - ended)
        outbound = Steps(dials)
        for job_id, tries in by_job.items():
            first = tries[0]
            if first["n"] != 1 or first["kind"] != "missed":
                continue
            created = created_of[job_id]
            wait = epoch(first["started_utc"]) - created
            if not in_calling_hours(created, policy):
                continue
            start_all.append(wait)
            # A line free for it: fewer calls up than the dispatcher may use, no other
            # callback waiting ahead of it, and the outbound cap not reached.
            if (busy.at(created) < LINES - policy.reserve_inbound
                    and outbound.at(created) < policy.max_outbound
                    and queued.at(created) == 0):
                start_free.append(wait)
    else:
        lost["not reached"] = len(ring_at) - len(reached_at)
    return Figures(
        callers=len(ring_at), missed=sum(1 for ring in r.rings if ring.missed),
        reached_24h=reached_24h, reached=len(reached_at), at_max_attempts=at_max, lost=lost,
        start_free=start_free, start_all=start_all, occupancy_peak=occupancy_peak,
        occupancy_queued=occupancy_queued, occupancy_any=occupancy_any, queued_h=queued_h,
        turnover=turnover, outcomes=outcomes,
        answered_inbound=sum(1 for c in r.calls if c["attempt"] is None
                             and c["disposition"] == "complete"),
        turned_away=sum(1 for c in r.calls if c["disposition"] == "busy"))


# -- report ------------------------------------------------------------------------------
def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} s"


def _s1(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def report(day_on: Figures, day_off: Figures, peak: Figures, runs: dict[str, Run],
           out: Callable[[str], None]) -> bool:
    def cells(f: Callable[[Figures], str], which: str = "oxp") -> tuple[str, str, str]:
        return tuple(f(fig) if key in which else "-"  # type: ignore[return-value]
                     for key, fig in zip("oxp", (day_on, day_off, peak), strict=True))

    def share(n: int, of: int) -> str:
        return f"{n} ({n / of:.1%})"

    rows = [
        ("distinct callers", *cells(lambda f: f"{f.callers}", "ox")),
        ("  no credit (rang off)", *cells(lambda f: f"{f.missed}", "ox")),
        ("reached within 24 h (survey complete)",
         *cells(lambda f: share(f.reached_24h, f.callers), "ox")),
        ("  answered when they rang", *cells(lambda f: f"{f.answered_inbound}", "ox")),
        ("  turned away, all lines busy", *cells(lambda f: f"{f.turned_away}", "ox")),
        ("reached or at max attempts",
         *cells(lambda f: share(f.reached + f.at_max_attempts, f.callers), "ox")),
        ("  at max attempts", *cells(lambda f: f"{f.at_max_attempts}", "o")),
        ("  lost", *cells(lambda f: ", ".join(f"{v} {k}" for k, v in f.lost.items()) or "0",
                          "ox")),
        ("missed call to callback, a line free: p50 / p95",
         *cells(lambda f: f"{_s(percentile(f.start_free, 0.5))} / "
                f"{_s(percentile(f.start_free, 0.95))} (n={len(f.start_free)})", "op")),
        ("missed call to callback, in hours: p50 / p95",
         *cells(lambda f: f"{_s(percentile(f.start_all, 0.5))} / "
                f"{_s(percentile(f.start_all, 0.95))} (n={len(f.start_all)})", "op")),
        ("line occupancy, peak hours in the run",
         *cells(lambda f: _pct(f.occupancy_peak))),
        (f"line occupancy, callbacks queued > {QUEUED_AFTER_S:g} s",
         *cells(lambda f: f"{_pct(f.occupancy_queued)} (over {f.queued_h:.1f} h)", "op")),
        ("line occupancy, any callback due", *cells(lambda f: _pct(f.occupancy_any), "op")),
        ("line idle between dials, queued: p50 / p95",
         *cells(lambda f: f"{_s1(percentile(f.turnover, 0.5))} / "
                f"{_s1(percentile(f.turnover, 0.95))}", "op")),
        ("dials", *cells(lambda f: f"{sum(f.outcomes.values())}", "op")),
        ("real s / simulated h / ring lag",
         *(f"{r.real_s:.0f} s / {r.sim_s / 3600:.1f} h / {r.behind_s:.1f} s"
           for r in (runs["on"], runs["off"], runs["peak"]))),
    ]
    out("dials by outcome (day, callbacks on): "
        + ", ".join(f"{k} {v}" for k, v in sorted(day_on.outcomes.items())))
    width = max(len(r[0]) for r in rows)
    cols = (28, 26)
    out(f"{'':<{width}}  {'day, callbacks on':<{cols[0]}}  {'day, callbacks off':<{cols[1]}}"
        "  morning peak, callbacks on")
    for name, a, b, c in rows:
        out(f"{name:<{width}}  {a:<{cols[0]}}  {b:<{cols[1]}}  {c}")
    p50 = percentile(day_on.start_free, 0.5)
    ratio = day_on.reached_24h / max(1, day_off.reached_24h)
    goals = [
        ("none lost: every caller reached or at max attempts (day)",
         not day_on.lost, f"{sum(day_on.lost.values())} lost"),
        ("callback start p50 <= 60 s when a line is free (day)",
         p50 is not None and p50 <= 60, _s(p50)),
        (f"occupancy >= 90% while callbacks are queued (> {QUEUED_AFTER_S:g} s; morning peak)",
         peak.occupancy_queued is not None and peak.occupancy_queued >= 0.9,
         _pct(peak.occupancy_queued)),
        (">= 5x the callers reached within 24 h vs callbacks off (day)", ratio >= 5,
         f"{ratio:.1f}x"),
    ]
    out("")
    for name, ok, value in goals:
        out(f"{'PASS' if ok else 'FAIL'}  {name}: {value}")
    return all(ok for _, ok, _ in goals)


# -- main --------------------------------------------------------------------------------
OUTBOUND = {
    # Field settings for a surge box: every line may call out, callbacks at any daytime hour,
    # enough airtime for the queue (the daily cap is a budget, not what is measured here).
    "calling_hours": "07:00-21:00", "max_outbound": LINES, "reserve_inbound": 1,
    "daily_minutes": 100_000, "max_attempts": 3, "retry_busy_s": 600,
    "retry_no_answer_s": 1800, "retry_failed_s": 900, "ring_timeout_s": 30,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=14, help="the demand's span")
    parser.add_argument("--callers", type=int, default=20_000, help="distinct callers in it")
    parser.add_argument("--first-day", type=int, default=None,
                        help="first day simulated (0-based; default: the last day)")
    parser.add_argument("--window-days", type=int, default=1, help="days simulated")
    parser.add_argument("--fortnight", action="store_true",
                        help="simulate every day of the demand (about 45 min at 1000x)")
    parser.add_argument("--speed", type=float, default=1000.0,
                        help="simulated seconds per real second")
    parser.add_argument("--peak-speed", type=float, default=200.0,
                        help="compression of the morning-peak run")
    parser.add_argument("--missed-share", type=float, default=0.85,
                        help="callers with no credit, who ring off")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--outbound", action="append", default=[], metavar="KEY=VALUE",
                        help="an [outbound] setting for the callbacks-on runs (TOML value), "
                        "e.g. lend_reserve_after_s=0")
    parser.add_argument("--quick", action="store_true",
                        help="1 day of 1,000 callers at 4000x, its morning at 800x")
    args = parser.parse_args(argv)
    if args.quick:
        args.days, args.callers, args.speed, args.peak_speed = 1, 1000, 4000.0, 800.0
    first_day = args.days - args.window_days if args.first_day is None else args.first_day
    if args.fortnight:
        first_day, args.window_days = 0, args.days
    outbound = dict(OUTBOUND)
    for item in args.outbound:
        key, _, value = item.partition("=")
        outbound[key.strip()] = tomllib.loads(f"v = {value}")["v"]
    settings = Settings(args.days, args.callers, first_day, args.window_days, args.speed,
                        args.peak_speed, args.seed, args.missed_share, outbound)
    # The box's own warnings (callers refused while every line is busy) are what is measured.
    logging.getLogger("edgecall").setLevel(logging.ERROR)
    logging.getLogger("apscheduler").setLevel(logging.ERROR)

    def out(text: str) -> None:
        print(text, flush=True)

    start, end = settings.window
    every = demand(settings.seed, settings.days, settings.callers, START_LOCAL.timestamp(),
                   settings.missed_share)
    rings = [r for r in every if start <= r.at < end]
    day = Window("day", start, end, settings.speed, drain=True)
    # The morning surge of the window's last day at a lower compression: the queue the night
    # left and the morning peak. At --speed each millisecond the box takes between one dial
    # and the next is seconds of simulated line time; here it is a fifth of that.
    morning = end - 86_400 + 6.5 * 3600
    peak = Window("peak", morning, morning + 4 * 3600, settings.peak_speed, drain=False)
    night = [r for r in every if peak.start - 9.5 * 3600 <= r.at < peak.end]
    out(f"surge: {settings.callers} distinct callers over {settings.days} days "
        f"({settings.missed_share:.0%} ring off), {LINES} lines, seed {settings.seed}; "
        "[outbound] " + ", ".join(f"{k} = {v!r}" for k, v in outbound.items()))
    out(f"  day: {_local(start)} to {_local(end)} ({len(rings)} callers) at {day.speed:g}x, "
        "callbacks on, then off")
    out(f"  morning peak: {_local(peak.start)} to {_local(peak.end)} at {peak.speed:g}x, "
        "callbacks on (the night's ring-offs reach the box first)")
    runs: dict[str, Run] = {}
    for name, window, callbacks, plan in (
            ("on", day, True, placements(rings, day)),
            ("off", day, False, placements(rings, day)),
            ("peak", peak, True, placements(night, peak, burst_before=peak.start))):
        out(f"  {name} ...")
        with tempfile.TemporaryDirectory(prefix="surge-", dir=_scratch()) as tmp:
            runs[name] = run(settings, window, callbacks, plan, Path(tmp), out)
    figs = {name: figures(runs[name], w) for name, w in (("on", day), ("off", day),
                                                          ("peak", peak))}
    out("")
    return 0 if report(figs["on"], figs["off"], figs["peak"], runs, out) else 1


def _scratch() -> str | None:
    """tmpfs when there is one: at this compression a disk's fsync would stretch every call
    by seconds of simulated time (durability costs: bench/keypress_latency.py)."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() else None


if __name__ == "__main__":
    sys.exit(main())
