from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from edge.clock import (
    Clock,
    ClockCorrection,
    format_utc,
    kernel_clock_synchronised,
    record_mono,
)


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
    mono = [100.0]
    clock, seen = sub_ms_clock(wall, mono)
    assert clock.note_network_time(datetime(2080, 1, 1)) is None  # naive: refused
    assert clock.note_network_time(datetime(2004, 1, 1, tzinfo=UTC)) is None  # modem RTC reset
    real = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert clock.note_network_time(real) is None  # one reading proves nothing yet
    wall[0] += 30
    mono[0] += 30
    assert clock.note_network_time(real + timedelta(seconds=30)) is not None  # it runs: trusted
    stamp = clock.now()
    assert stamp.quality == "network" and stamp.utc.startswith("2026-11-27T12:00:30")
    assert seen and seen[-1].source == "network"


def test_format_utc() -> None:
    assert format_utc(0) == "1970-01-01T00:00:00.000Z"


def test_kernel_probe_answers_a_bool() -> None:
    assert kernel_clock_synchronised() in (True, False)


def _ms(utc: str) -> int:
    """Unix milliseconds of a stamp's UTC string."""
    parsed = datetime.strptime(utc, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return round(parsed.timestamp() * 1000)


def _ms_digits(value: float) -> int:
    return len(repr(value).partition(".")[2])


@given(st.floats(min_value=0, max_value=1e7, allow_nan=False))
def test_a_recorded_reading_is_the_millisecond_it_falls_in(mono: float) -> None:
    recorded = record_mono(mono)
    assert _ms_digits(recorded) <= 3
    assert -1e-6 < mono - recorded < 0.001 + 1e-6


def sub_ms_clock(wall: list[float], mono: list[float]) -> tuple[Clock, list[ClockCorrection]]:
    seen: list[ClockCorrection] = []
    clock = Clock(wall=lambda: wall[0], mono=lambda: mono[0], boot_id="b",
                  synchronised=lambda: False, on_correction=seen.append, probe_interval_s=0)
    return clock, seen


def test_stamps_and_corrections_record_milliseconds_but_timeouts_read_the_clock() -> None:
    wall, mono = [1_790_000_000.123456], [5000.987654]
    clock, seen = sub_ms_clock(wall, mono)
    stamp = clock.now()
    assert stamp.mono == 5000.987 and stamp.utc.endswith(".123Z")
    assert clock.mono() == 5000.987654  # what timeouts use: not cut
    wall[0] += 3600.000321
    mono[0] += 0.000321
    clock.now()
    assert len(seen) == 1 and seen[0].mono == 5000.987
    network = datetime(2026, 11, 27, 12, 0, 0, 250_000, tzinfo=UTC)
    clock.note_network_time(network)
    wall[0] += 10.000123
    mono[0] += 10.000123
    clock.note_network_time(network + timedelta(seconds=10))
    assert seen[-1].source == "network" and _ms_digits(seen[-1].mono) <= 3


def test_utc_minus_mono_stays_put_while_the_clock_does_not_step() -> None:
    # Both cut alike: the sync codec sends this difference, so it must not flicker by 1 ms.
    wall, mono = [1_790_000_000.0004], [5000.0004]
    clock, seen = sub_ms_clock(wall, mono)
    gaps = set()
    for step in (0.0007, 0.0003, 1.2345678, 0.0009991, 7.000001, 0.5):
        wall[0] += step
        mono[0] += step
        stamp = clock.now()
        gaps.add(_ms(stamp.utc) - round(stamp.mono * 1000))
    assert len(gaps) == 1 and seen == []


def test_a_correction_repairs_earlier_stamps_to_the_millisecond() -> None:
    true_epoch = datetime(2026, 11, 27, 8, 0, tzinfo=UTC).timestamp() + 0.4567891
    stale = true_epoch - 86_400 * 40  # fake-hwclock's last save, 40 days old
    wall, mono = [stale], [12.3456789]
    clock, seen = sub_ms_clock(wall, mono)
    truth, stamps = [], []
    for step in (0.0004, 3.1415926, 0.0271828, 60.000999):
        wall[0] += step
        mono[0] += step
        true_epoch += step
        truth.append(true_epoch)
        stamps.append(clock.now())
    assert seen == []  # no step yet: the stale clock just runs
    wall[0] = true_epoch + 0.75  # NTP steps the clock while mono moves on by the same 0.75 s
    mono[0] += 0.75
    clock.now()
    (correction,) = seen
    assert correction.source == "system"
    for stamp, real in zip(stamps, truth, strict=True):
        fixed_ms = _ms(correction.utc) + round((stamp.mono - correction.mono) * 1000)
        assert abs(fixed_ms - real * 1000) < 2  # three readings, each cut to the millisecond
        assert abs(_ms(stamp.utc) - real * 1000) > 86_000_000  # it was wrong before


# ---- network time: trusted only once it is seen to run, never over NTP


def net_clock(synced: bool = False) -> tuple[Clock, list[float], list[float],
                                             list[ClockCorrection]]:
    wall, mono = [datetime(2025, 6, 1, tzinfo=UTC).timestamp()], [1000.0]
    seen: list[ClockCorrection] = []
    clock = Clock(wall=lambda: wall[0], mono=lambda: mono[0], boot_id="b",
                  synchronised=lambda: synced, on_correction=seen.append, probe_interval_s=0)
    return clock, wall, mono, seen


def later(wall: list[float], mono: list[float], seconds: float) -> None:
    wall[0] += seconds
    mono[0] += seconds


def test_a_frozen_network_clock_is_never_trusted() -> None:
    clock, wall, mono, seen = net_clock()
    frozen = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # the module repeats one instant
    for _ in range(5):
        assert clock.note_network_time(frozen) is None
        later(wall, mono, 30)
    assert seen == [] and clock.now().quality == "unsynchronised"


def test_network_time_must_advance_with_the_monotonic_clock() -> None:
    clock, wall, mono, _seen = net_clock()
    start = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    clock.note_network_time(start)
    later(wall, mono, 0.2)
    assert clock.note_network_time(start) is None  # too close together to tell
    later(wall, mono, 29.8)
    assert clock.note_network_time(start + timedelta(seconds=90)) is None  # runs 3x fast
    later(wall, mono, 30)
    assert clock.note_network_time(start + timedelta(seconds=120)) is not None  # steady now
    assert clock.now().quality == "network"


def test_ntp_is_preferred_to_any_network_time() -> None:
    clock, wall, mono, seen = net_clock(synced=True)
    days_off = datetime.fromtimestamp(wall[0], UTC) + timedelta(days=3)  # runs, but wrong
    for step in range(4):
        assert clock.note_network_time(days_off + timedelta(seconds=30 * step)) is None
        later(wall, mono, 30)
    assert seen == []  # no correction: HQ must not "repair" good stamps with it
    assert clock.now().quality == "ntp"


def test_a_trusted_network_time_that_jumps_waits_for_confirmation() -> None:
    clock, wall, mono, _seen = net_clock()
    start = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    clock.note_network_time(start)
    later(wall, mono, 30)
    clock.note_network_time(start + timedelta(seconds=30))
    later(wall, mono, 30)
    jumped = start + timedelta(days=2, seconds=60)
    assert clock.note_network_time(jumped) is None  # not on one reading
    assert clock.now().utc.startswith("2026-11-27T12:01")  # the trusted time runs on
    later(wall, mono, 30)
    assert clock.note_network_time(jumped + timedelta(seconds=30)) is not None  # it holds
    assert clock.now().utc.startswith("2026-11-29T12:01:30")
