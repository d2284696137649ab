"""The ``[status_page]`` config section."""

from __future__ import annotations

import ipaddress

from edge.config import Key, Section


def _address(value: str) -> str | None:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return "expected an IP address of this box such as \"192.168.1.20\" or \"0.0.0.0\""
    return None


SECTION = Section(
    "status_page",
    "Local status page for a technician on the same LAN (HTTP, password from the secrets "
    "file key status_page_password; see docs/status-page.md).",
    keys=(
        Key("enabled", bool, True,
            "Serve the page. Writing the section turns it on; false keeps the settings but "
            "serves nothing."),
        Key("bind", str, "0.0.0.0",
            "Address to listen on: this box's LAN address (e.g. \"192.168.1.20\") to serve one "
            "interface only, \"0.0.0.0\" for every interface.", check=_address),
        Key("port", int, 8080, "TCP port of the page (0: any free port, for tests).",
            min=0, max=65535),
        Key("refresh_s", int, 30, "The page reloads itself every this many seconds.",
            min=5, max=3600),
    ),
    optional=True,
)
