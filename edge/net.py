"""Is there a way out? The default routes in the kernel's IPv4 and IPv6 tables (a mobile data
link may be IPv6-only). Read by the link watch and by sync's doctor; plain functions on the
tables' text, so tests need no /proc."""

from __future__ import annotations

from pathlib import Path

IPV4_ROUTES = Path("/proc/net/route")
IPV6_ROUTES = Path("/proc/net/ipv6_route")

# <linux/route.h>
RTF_UP = 0x0001
RTF_REJECT = 0x0200  # unreachable and prohibit routes (IPv6: blackhole and throw too)

_ANY_V4 = "00000000"
_ANY_V6 = "0" * 32


def has_default_route(ipv4_table: str, ipv6_table: str) -> bool:
    """True when /proc/net/route's or /proc/net/ipv6_route's text has a usable default route."""
    return _ipv4_default(ipv4_table) or _ipv6_default(ipv6_table)


def read_route_tables(ipv4: Path = IPV4_ROUTES,
                      ipv6: Path = IPV6_ROUTES) -> tuple[str, str] | None:
    """Both tables' text. A missing one reads as "" (a kernel without IPv6); None when neither
    can be read (no /proc: there is no telling, which is not the same as offline)."""
    texts = [_read(ipv4), _read(ipv6)]
    if texts == [None, None]:
        return None
    return texts[0] or "", texts[1] or ""


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _ipv4_default(table: str) -> bool:
    # Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT, after a header.
    # The mask must be 0 too: 0.0.0.0/8 also has destination 00000000.
    for line in table.splitlines()[1:]:
        f = line.split()
        if len(f) >= 8 and f[1] == _ANY_V4 and f[7] == _ANY_V4 and _usable(f[3], f[0]):
            return True
    return False


def _ipv6_default(table: str) -> bool:
    # No header: destination, prefix length, source, source prefix length, next hop, metric,
    # refcount, use, flags, device (blank when the route has none: 9 fields, not a way out).
    for line in table.splitlines():
        f = line.split()
        if len(f) >= 10 and f[0] == _ANY_V6 and f[1] == "00" and _usable(f[8], f[9]):
            return True
    return False


def _usable(flags_hex: str, device: str) -> bool:
    try:
        flags = int(flags_hex, 16)
    except ValueError:
        return False
    # The kernel keeps an "unreachable" ::/0 on lo, and puts reject routes there; IPv4 shows a
    # route without a device (blackhole) as "*".
    return bool(flags & RTF_UP) and not flags & RTF_REJECT and device not in ("lo", "*")
