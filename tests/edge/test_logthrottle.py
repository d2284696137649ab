import logging

from edge.logthrottle import LogThrottle


def test_first_of_a_kind_at_once_then_one_summary_per_interval(caplog) -> None:
    now = [0.0]
    throttle = LogThrottle(logging.getLogger("t"), 60.0, mono=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="t"):
        for i in range(1000):
            now[0] = i * 0.01  # 1000 in 10 s
            throttle.warning("invite", "refused INVITE from %s", "10.0.0.9")
        throttle.warning("other", "malformed datagram")
        now[0] = 61.0
        throttle.warning("invite", "refused INVITE from %s", "10.0.0.9")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "refused INVITE from 10.0.0.9",
        "malformed datagram",
        "refused INVITE from 10.0.0.9 (and 999 more like it in the last 60 s)",
    ]
