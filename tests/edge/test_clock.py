from __future__ import annotations

from datetime import UTC, datetime

from edge.clock import Clock, ClockCorrection, format_utc, kernel_clock_synchronised


def make(wall: list[float], synced: bool = False) -> tuple[Clock, list[ClockCorrection]]:
    seen: list[ClockCorrection] = []
    mono = iter(range(10_000))
    clock = Clock(wall=lambda: wall[0], mono=lambda: float(next(mono)), boot_id="b",
                  synchronised=lambda: synced, on_correction=seen.append, probe_interval_s=0)
    return clock, seen


def test_quality_follows_the_kernel() -> None:
    assert make([1e9], synced=True)[0].now().quality == "ntp"
    assert make([1e9], synced=False)[0].now().quality == "unsynchronised"


def test_a_clock_step_is_reported_once() -> None:
    wall = [1_000_000.0]
    clock, seen = make(wall)
    clock.now()
    wall[0] += 1.0  # the monotonic clock also moves by 1: no step
    clock.now()
    assert seen == []
    wall[0] += 3600  # NTP arrives: an hour jump
    clock.now()
    assert len(seen) == 1 and seen[0].source == "system"


def test_network_time_corrects_stamps_and_rejects_implausible_years() -> None:
    wall = [datetime(2024, 1, 1, tzinfo=UTC).timestamp()]  # fake-hwclock's stale time
    clock, seen = make(wall)
    assert clock.note_network_time(datetime(2080, 1, 1)) is None  # naive: refused
    assert clock.note_network_time(datetime(2004, 1, 1, tzinfo=UTC)) is None  # modem RTC reset
    real = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert clock.note_network_time(real) is not None
    stamp = clock.now()
    assert stamp.quality == "network" and stamp.utc.startswith("2026-11-27T12:00")
    assert seen and seen[-1].source == "network"


def test_format_utc() -> None:
    assert format_utc(0) == "1970-01-01T00:00:00.000Z"


def test_kernel_probe_answers_a_bool() -> None:
    assert kernel_clock_synchronised() in (True, False)
