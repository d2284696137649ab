"""Network time from modules whose clock is frozen or days off, through the real line into the
box's Clock (which decides: edge/clock.py): a frozen clock never becomes the time, NTP always
wins, and a clock that runs true is adopted once it has been seen to run."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from edge.clock import Clock, ClockCorrection

POLL_S = 1.0  # the line reads the network time at each status poll


def _clock(synced: bool) -> tuple[Clock, list[ClockCorrection]]:
    seen: list[ClockCorrection] = []
    return Clock(boot_id="test", synchronised=lambda: synced, on_correction=seen.append,
                 probe_interval_s=0), seen


@pytest.mark.parametrize("profile", ["sim800", "ec25"])  # +CCLK/*PSUTTZ and +QLTS
def test_a_frozen_module_clock_never_becomes_the_time(rig_factory, wait, profile: str) -> None:
    clock, seen = _clock(synced=False)
    rig = rig_factory(profile, sim_args={"variants": {"frozen_clock"}}, clock=clock,
                      status_poll_s=POLL_S, start=False)
    rig.sim.network_time(datetime.now(UTC) - timedelta(days=40))  # then it never moves
    rig.start()
    rig.wait_ready()
    wait(lambda: len(rig.times) >= 5, 15)  # several readings over seconds: all the same
    assert len(set(rig.times)) == 1
    assert [c for c in seen if c.source == "network"] == []
    assert clock.now().quality == "unsynchronised"


@pytest.mark.parametrize("profile", ["sim800", "ec25"])
def test_a_wrong_module_clock_never_overrides_ntp(rig_factory, wait, profile: str) -> None:
    clock, seen = _clock(synced=True)
    rig = rig_factory(profile, sim_args={"variants": {"wrong_clock=3"}}, clock=clock,
                      status_poll_s=POLL_S)
    rig.wait_ready()
    rig.sim.network_time(datetime.now(UTC))  # the module adds its 3 days
    wait(lambda: len(rig.times) >= 5, 15)
    assert abs(rig.times[-1] - datetime.now(UTC) - timedelta(days=3)) < timedelta(seconds=5)
    assert [c for c in seen if c.source == "network"] == []
    stamp = clock.now()
    assert stamp.quality == "ntp"
    assert abs(datetime.fromisoformat(stamp.utc) - datetime.now(UTC)) < timedelta(seconds=5)


def test_a_running_network_clock_is_adopted_once_seen_to_run(rig_factory, wait) -> None:
    clock, seen = _clock(synced=False)
    rig = rig_factory("ec25", clock=clock, status_poll_s=POLL_S)
    rig.wait_ready()
    given = datetime.now(UTC) + timedelta(days=40)  # fake-hwclock is 40 days behind
    rig.sim.network_time(given)
    started = time.monotonic()
    wait(lambda: clock.now().quality == "network", 15)
    assert time.monotonic() - started >= 2.0  # not on the first reading
    assert [c.source for c in seen] == ["network"]
    stamp = datetime.fromisoformat(clock.now().utc)
    assert abs(stamp - (given + timedelta(seconds=time.monotonic() - started))) \
        < timedelta(seconds=3)
