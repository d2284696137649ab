"""Counts for ``edgecall status`` (and later the status page): calls and dispositions today
and this week, completion, outbox backlog."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from edge.store import Store


@dataclass
class Summary:
    calls: int = 0
    in_progress: int = 0
    dispositions: dict[str, int] = field(default_factory=dict)

    def add(self, disposition: str | None, count: int) -> None:
        self.calls += count
        if disposition is None:
            self.in_progress += count
        else:
            self.dispositions[disposition] = self.dispositions.get(disposition, 0) + count

    @property
    def completion(self) -> float | None:
        finished = self.calls - self.in_progress - self.dispositions.get("busy", 0)
        return self.dispositions.get("complete", 0) / finished if finished > 0 else None


def summarise(store: Store, since_utc: str) -> Summary:
    summary = Summary()
    for row in store.reads.dispositions_since(since_utc):
        summary.add(row["disposition"], row["n"])
    return summary


def summarise_by_survey(store: Store, since_utc: str) -> dict[str, Summary]:
    """:func:`summarise` split by survey (calls without one count as "none")."""
    out: dict[str, Summary] = {}
    for row in store.reads.dispositions_since(since_utc):
        out.setdefault(row["survey"], Summary()).add(row["disposition"], row["n"])
    return out


def day_and_week_starts(now: datetime | None = None) -> tuple[str, str]:
    """Start of today (UTC) and of the last 7 days, in the stored timestamp format."""
    now = now or datetime.now(UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - timedelta(days=6)
    return (today.strftime("%Y-%m-%dT%H:%M:%S.000Z"), week.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
