"""The fleet's health from what HQ knows of each box: when it was last heard from and its
last heartbeat (sync/_heartbeat.py sends one each sync run). Pure: the caller passes now."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from edge.words import plural

from ._settings import Alerts
from .storage import BoxInfo


@dataclass
class BoxHealth:
    box: str
    last_seen_utc: str | None
    silent_s: float | None  # since the box was last heard from
    version: str | None = None
    backlog: int | None = None
    last_call_utc: str | None = None
    clock: str | None = None
    disk_free_mb: float | None = None
    errors_1h: int | None = None
    lines: list[dict[str, Any]] = field(default_factory=list)
    heartbeat_utc: str | None = None
    rotating_key: bool = False
    alerts: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _seconds(since: str | None, now: datetime) -> float | None:
    if not since:
        return None
    try:
        then = datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError:
        return None
    return max(0.0, (now - then).total_seconds())


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else None


def health(info: BoxInfo, now: datetime, alerts: Alerts) -> BoxHealth:
    beat = info.heartbeat or {}
    silent = _seconds(info.last_seen_utc, now)
    lines = [line for line in beat.get("lines", []) if isinstance(line, dict)]
    backlog = _number(beat.get("backlog"))
    disk = _number(beat.get("disk_free_mb"))
    errors = _number(beat.get("errors_1h"))
    out = BoxHealth(
        info.box, info.last_seen_utc, silent, str(beat["version"]) if "version" in beat else None,
        int(backlog) if backlog is not None else None,
        beat.get("last_call_utc") if isinstance(beat.get("last_call_utc"), str) else None,
        beat.get("clock") if isinstance(beat.get("clock"), str) else None,
        disk, int(errors) if errors is not None else None, lines, info.heartbeat_utc,
        info.rotating)
    if silent is None:
        out.alerts.append("never heard from")
    elif silent > alerts.silent_h * 3600:
        out.alerts.append(f"silent for {silent / 3600:.0f} h")
    if info.heartbeat is None and silent is not None:
        out.alerts.append("no heartbeat yet")
    if out.clock == "unsynchronised":
        out.alerts.append("clock unsynchronised")
    if disk is not None and disk < alerts.disk_low_mb:
        out.alerts.append(f"disk low ({disk:.0f} MB free)")
    for line in lines:
        if line.get("state") == "down":
            out.alerts.append(f"line {line.get('name', '?')} down")
    if backlog is not None and backlog > alerts.backlog_records:
        out.alerts.append(f"backlog {plural(int(backlog), 'record')}")
    return out


def fleet(boxes: list[BoxInfo], now: datetime, alerts: Alerts) -> list[BoxHealth]:
    """Every box, those with alerts first."""
    rows = [health(info, now, alerts) for info in boxes]
    rows.sort(key=lambda h: (not h.alerts, h.box))
    return rows


def ago(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} days ago"
