from __future__ import annotations

from edge.linkwatch import LinkWatch, has_default_route

HEADER = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
DEFAULT = "wwan0\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
LAN = "eth0\t0000A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n"


def test_default_route_detection() -> None:
    assert has_default_route(HEADER + LAN + DEFAULT)
    assert not has_default_route(HEADER + LAN)
    assert not has_default_route(HEADER + DEFAULT.replace("0003", "0002"))  # route down


def test_link_up_is_announced_once_per_transition() -> None:
    tables = iter([HEADER + LAN, HEADER + LAN + DEFAULT, HEADER + LAN + DEFAULT,
                   HEADER + LAN, HEADER + DEFAULT])
    ups: list[int] = []
    watch = LinkWatch(lambda: ups.append(1), read=lambda: next(tables))
    assert [watch.check() for _ in range(5)] == [False, True, False, False, True]
    assert len(ups) == 2


def test_a_box_that_starts_online_is_not_announced() -> None:
    watch = LinkWatch(lambda: None, read=lambda: HEADER + DEFAULT)
    assert watch.check() is False
