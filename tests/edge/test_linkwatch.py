from __future__ import annotations

import threading

from edge.linkwatch import LinkWatch

HEADER = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
DEFAULT = "wwan0\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
LAN = "eth0\t0000A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n"

ZERO = "0" * 32
V6_UNREACHABLE = f"{ZERO} 00 {ZERO} 00 {ZERO} ffffffff 00000001 00000000 00200200       lo\n"
V6_DEFAULT = (f"{ZERO} 00 {ZERO} 00 fe80{'0' * 27}1 00000400 00000001 00000000 00000003"
              "    wwan0\n")

# (the route detection itself: tests/edge/test_net.py)


def test_link_up_is_announced_once_per_transition() -> None:
    tables = iter([HEADER + LAN, HEADER + LAN + DEFAULT, HEADER + LAN + DEFAULT,
                   HEADER + LAN, HEADER + DEFAULT])
    ups: list[int] = []
    watch = LinkWatch(lambda: ups.append(1), read=lambda: (next(tables), ""))
    assert [watch.check() for _ in range(5)] == [False, True, False, False, True]
    assert len(ups) == 2


def test_a_box_that_starts_online_is_not_announced() -> None:
    watch = LinkWatch(lambda: None, read=lambda: (HEADER + DEFAULT, ""))
    assert watch.check() is False


def test_an_ipv6_only_link_coming_up_is_announced() -> None:
    tables = iter([(HEADER + LAN, V6_UNREACHABLE), (HEADER + LAN, V6_UNREACHABLE + V6_DEFAULT),
                   (HEADER + LAN, V6_DEFAULT), (HEADER + LAN, V6_UNREACHABLE)])
    ups: list[int] = []
    watch = LinkWatch(lambda: ups.append(1), read=lambda: next(tables))
    assert [watch.check() for _ in range(4)] == [False, True, False, False]
    assert len(ups) == 1


def test_unreadable_tables_tell_nothing() -> None:
    tables = iter([(HEADER + LAN, ""), None, (HEADER + DEFAULT, "")])
    watch = LinkWatch(lambda: None, read=lambda: next(tables))
    assert [watch.check() for _ in range(3)] == [False, False, True]


def test_the_thread_waits_between_looks_even_when_nothing_is_readable() -> None:
    looks = threading.Semaphore(0)

    def unreadable() -> None:
        looks.release()
        return None

    watch = LinkWatch(lambda: None, interval_s=60, read=unreadable).start()
    try:
        assert looks.acquire(timeout=5)  # the first look at once
        assert not looks.acquire(timeout=0.3)  # then none before the interval
    finally:
        watch.stop()
