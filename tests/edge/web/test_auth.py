"""Password comparison and the guessing brake (sans-IO: times are passed in)."""

from __future__ import annotations

from edge.web import Throttle, password_ok


def test_password_ok() -> None:
    assert password_ok("s3cret é", "s3cret é")
    assert not password_ok("s3cret", "s3cret é")
    assert not password_ok("", "s3cret")
    assert not password_ok(None, "s3cret")


def test_throttle_blocks_after_the_limit_then_forgives() -> None:
    throttle = Throttle(limit=3, window_s=60.0)
    for t in (0.0, 1.0):
        throttle.failed("10.0.0.5", t)
    assert not throttle.blocked("10.0.0.5", 2.0)
    throttle.failed("10.0.0.5", 2.0)
    assert throttle.blocked("10.0.0.5", 3.0)
    assert not throttle.blocked("10.0.0.6", 3.0)  # per address
    assert throttle.blocked("10.0.0.5", 59.0)
    assert not throttle.blocked("10.0.0.5", 62.5)  # the failures aged out of the window


def test_success_clears_the_count() -> None:
    throttle = Throttle(limit=2, window_s=60.0)
    throttle.failed("a", 0.0)
    throttle.succeeded("a")
    throttle.failed("a", 1.0)
    assert not throttle.blocked("a", 1.5)


def test_memory_stays_bounded() -> None:
    throttle = Throttle(limit=2, window_s=60.0)
    for n in range(1500):
        throttle.failed(f"10.0.{n // 256}.{n % 256}", float(n) / 100)
    assert len(throttle._failures) <= 1001
