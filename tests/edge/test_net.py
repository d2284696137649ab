"""Default routes in /proc/net/route and /proc/net/ipv6_route text: IPv4, IPv6, both, neither."""

from __future__ import annotations

from pathlib import Path

from edge.net import has_default_route, read_route_tables

HEADER = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
DEFAULT = "wwan0\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
LAN = "eth0\t0000A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n"

ZERO = "0" * 32


def v6(dest: str, plen: str, flags: str, dev: str, hop: str = ZERO) -> str:
    """One /proc/net/ipv6_route line as the kernel prints it (device right-aligned to 8)."""
    return f"{dest} {plen} {ZERO} 00 {hop} 00000400 00000001 00000000 {flags} {dev:>8}\n"


V6_LOOPBACK = v6(ZERO[:-1] + "1", "80", "80200001", "lo")
V6_LINK_LOCAL = v6("fe80" + "0" * 28, "40", "00000001", "wwan0")
V6_UNREACHABLE = v6(ZERO, "00", "00200200", "lo")  # the kernel's own, always there
V6_NONE = V6_LOOPBACK + V6_LINK_LOCAL + V6_UNREACHABLE  # an up link without a router yet
V6_DEFAULT = v6(ZERO, "00", "00000003", "wwan0", hop="fe80" + "0" * 27 + "1")


# Kept from edge/linkwatch.py's and sync/doctor.py's tests when the two functions became one.
def test_default_route_detection() -> None:
    assert has_default_route(HEADER + LAN + DEFAULT, "")
    assert not has_default_route(HEADER + LAN, "")
    assert not has_default_route(HEADER + DEFAULT.replace("0003", "0002"), "")  # route down


ROUTE_HEADER = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n"


def test_default_route_detection_both_tables() -> None:
    default = ROUTE_HEADER + "eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\n"
    lan_only = ROUTE_HEADER + "eth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\n"
    down = ROUTE_HEADER + "eth0\t00000000\t0101A8C0\t0002\t0\t0\t100\t00000000\n"
    v6_lo = ("0" * 32 + " 00 " + "0" * 32 + " 00 " + "0" * 32
             + " ffffffff 00000001 00000000 00200200 lo\n")
    v6_wan = ("0" * 32 + " 00 " + "0" * 32 + " 00 " + "fe80" + "0" * 28
              + " 00000400 00000001 00000000 00000003 wwan0\n")
    assert has_default_route(default, "")
    assert not has_default_route(lan_only, v6_lo)
    assert not has_default_route(down, "")
    assert has_default_route(lan_only, v6_wan)


def test_ipv6_only() -> None:
    assert has_default_route(HEADER + LAN, V6_NONE + V6_DEFAULT)
    assert has_default_route("", V6_DEFAULT)  # a kernel without IPv4 routes at all


def test_ipv4_only() -> None:
    assert has_default_route(HEADER + LAN + DEFAULT, V6_NONE)


def test_neither() -> None:
    assert not has_default_route(HEADER + LAN, V6_NONE)
    assert not has_default_route(HEADER, "")
    assert not has_default_route("", "")


def test_route_down() -> None:
    assert not has_default_route(HEADER + LAN, v6(ZERO, "00", "00000002", "wwan0"))


def test_reject_routes_and_lo_are_no_way_out() -> None:
    # ip -6 route add unreachable default / blackhole default: RTF_UP | RTF_REJECT, on lo
    assert not has_default_route(HEADER, v6(ZERO, "00", "00000201", "lo"))
    assert not has_default_route(HEADER, v6(ZERO, "00", "00000201", "wwan0"))
    assert not has_default_route(HEADER, v6(ZERO, "00", "00000001", "lo"))
    # ip route add unreachable default (IPv4 shows a route without a device as "*")
    assert not has_default_route(HEADER + "*\t00000000\t00000000\t0201\t0\t0\t0\t00000000"
                                 "\t0\t0\t0\n", "")
    assert not has_default_route(HEADER + "*\t00000000\t00000000\t0001\t0\t0\t0\t00000000"
                                 "\t0\t0\t0\n", "")  # blackhole


def test_zero_destination_with_a_prefix_is_not_default() -> None:
    zero_slash_8 = "eth0\t00000000\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0\n"
    assert not has_default_route(HEADER + zero_slash_8, "")
    assert not has_default_route("", v6(ZERO, "08", "00000001", "wwan0"))  # ::/8


def test_a_default_route_without_gateway_counts() -> None:
    # point-to-point links (ppp0, some wwan) route by device, without a next hop
    assert has_default_route(HEADER + "ppp0\t00000000\t00000000\t0001\t0\t0\t0\t00000000"
                             "\t0\t0\t0\n", "")
    assert has_default_route("", v6(ZERO, "00", "00000001", "ppp0"))


def test_a_route_without_device_or_with_odd_flags_is_skipped() -> None:
    no_device = f"{ZERO} 00 {ZERO} 00 {ZERO} 00000400 00000001 00000000 00000001         \n"
    assert not has_default_route("", no_device)
    assert not has_default_route("", v6(ZERO, "00", "zz", "wwan0"))


def test_tables_as_this_kernel_printed_them() -> None:
    ipv4 = (
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT"
        "                                                       \n"
        "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0"
        "                                                                               \n"
        "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0"
        "                                                                               \n")
    ipv6 = (
        "fd000000000000000000000000000000 40 00000000000000000000000000000000 00 "
        "00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n"
        "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
        "fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth0\n"
        "00000000000000000000000000000001 80 00000000000000000000000000000000 00 "
        "00000000000000000000000000000000 00000000 00000002 00000000 80200001       lo\n"
        "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
        "00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n")
    v6_default = ipv6.splitlines(keepends=True)[1]
    assert has_default_route(ipv4, ipv6)
    assert has_default_route(ipv4, "")
    assert has_default_route(ipv4.splitlines()[0], ipv6)
    assert not has_default_route(ipv4.splitlines()[0], ipv6.replace(v6_default, ""))


def test_read_route_tables(tmp_path: Path) -> None:
    ipv4, ipv6 = tmp_path / "route", tmp_path / "ipv6_route"
    assert read_route_tables(ipv4, ipv6) is None  # no /proc: no telling
    ipv4.write_text(HEADER + LAN)
    assert read_route_tables(ipv4, ipv6) == (HEADER + LAN, "")  # a kernel without IPv6
    ipv6.write_text(V6_DEFAULT)
    assert read_route_tables(ipv4, ipv6) == (HEADER + LAN, V6_DEFAULT)
    ipv4.unlink()
    assert read_route_tables(ipv4, ipv6) == ("", V6_DEFAULT)
