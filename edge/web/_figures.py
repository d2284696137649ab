"""What the status page shows, read from the store, the lines, the clock and the status
providers of plug-ins (sync). Plain data: the page and the JSON endpoint render the same
:class:`Figures`."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from edge.clock import Clock
from edge.lines import Line
from edge.stats import Summary, day_and_week_starts, summarise, summarise_by_survey
from edge.store import Store

log = logging.getLogger(__name__)

ERROR_EVENT_KINDS = ("store_error", "line_error", "engine_error")
RECENT_ERRORS = 10

StatusProvider = Callable[[Store], list[tuple[str, str]]]


@dataclass
class Period:
    calls: int
    in_progress: int
    completion: float | None  # share of finished calls (busy excluded) that completed
    dispositions: dict[str, int]

    @classmethod
    def of(cls, summary: Summary) -> Period:
        return cls(summary.calls, summary.in_progress, summary.completion,
                   dict(sorted(summary.dispositions.items())))


@dataclass
class SurveyFigures:
    survey: str
    today: Period
    week: Period


@dataclass
class LineFigures:
    name: str
    kind: str
    state: str
    detail: str
    signal_dbm: int | None = None
    signal: str | None = None  # words, e.g. "good", where the line reports them


@dataclass
class ErrorEntry:
    utc: str
    what: str  # "call error" or an event kind
    call: str | None
    detail: str


@dataclass
class Figures:
    generated_utc: str
    box: str
    today: Period
    week: Period
    surveys: list[SurveyFigures]
    lines: list[LineFigures]
    backlog: int
    sync: list[tuple[str, str]]
    clock_quality: str  # the box clock now
    last_call_clock_quality: str | None  # stamped on the newest call
    errors: list[ErrorEntry] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["sync"] = [{"label": label, "value": value} for label, value in self.sync]
        return data


# A caller number must never reach the page, even inside an error text a library wrote.
# Phone numbers are 7+ digits in a row, or "+" then digits and spaces; dates and counts stay.
_NUMBER = re.compile(r"\+\d[\d ]{5,}\d|\d{7,}")


def scrub(text: str) -> str:
    return _NUMBER.sub("[number]", text)


def _detail(raw: str | None) -> str:
    if not raw:
        return ""
    try:
        data = json.loads(raw)
    except ValueError:
        return scrub(raw)
    if isinstance(data, dict):
        return scrub(", ".join(f"{k}: {v}" for k, v in data.items()))
    return scrub(str(data))


def recent_errors(store: Store, limit: int = RECENT_ERRORS) -> list[ErrorEntry]:
    """Newest first: calls that ended in ``error`` and error events of the store, lines and
    engine. Only call ids, times and error words; never caller numbers."""
    calls = store.reads.error_calls(limit)
    events = store.reads.events_of(ERROR_EVENT_KINDS, limit)
    entries = [ErrorEntry(c["utc"], "call error", c["id"], f"line {c['line']}") for c in calls]
    entries += [ErrorEntry(e["utc"], e["kind"], e["call_id"], _detail(e["detail"]))
                for e in events]
    entries.sort(key=lambda e: e.utc, reverse=True)
    return entries[:limit]


def _line_figures(line: Line) -> LineFigures:
    try:
        status = line.status()
    except Exception as exc:  # a line that cannot report is itself news for the technician
        return LineFigures(getattr(line, "name", "?"), "?", "unknown",
                           scrub(f"status failed: {type(exc).__name__}"))
    dbm = status.facts.get("signal_dbm")
    words = status.facts.get("signal")
    return LineFigures(status.name, status.kind, status.state, scrub(status.detail),
                       int(dbm) if isinstance(dbm, int | float) else None,
                       str(words) if words is not None else None)


def _provided(store: Store, providers: Sequence[StatusProvider]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for provider in providers:
        try:
            out.extend((str(label), str(value)) for label, value in provider(store))
        except Exception as exc:  # a plug-in's fault must not hide the core figures
            log.warning("status provider %r failed: %s", provider, exc)
            out.append(("plug-in error", scrub(f"{type(exc).__name__}: {exc}")))
    return out


def gather(store: Store, clock: Clock, lines: Sequence[Line], box: str,
           providers: Sequence[StatusProvider] = (), now: datetime | None = None) -> Figures:
    """Everything the page shows, read now. ``now`` (UTC) fixes "today" for tests."""
    stamp = clock.now()
    today_start, week_start = day_and_week_starts(now)
    today = summarise_by_survey(store, today_start)
    week = summarise_by_survey(store, week_start)
    surveys = [SurveyFigures(name, Period.of(today.get(name, Summary())), Period.of(week[name]))
               for name in sorted(week)]
    return Figures(
        generated_utc=stamp.utc,
        box=box,
        today=Period.of(summarise(store, today_start)),
        week=Period.of(summarise(store, week_start)),
        surveys=surveys,
        lines=[_line_figures(line) for line in lines],
        backlog=store.reads.backlog(),
        sync=_provided(store, providers),
        clock_quality=stamp.quality,
        last_call_clock_quality=store.reads.last_call_clock_quality(),
        errors=recent_errors(store),
    )
