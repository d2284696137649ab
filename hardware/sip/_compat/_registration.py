"""When to (re-)register: a pure policy, fed outcomes, returning delays (reference defect:
registration mandatory, one REGISTER without retransmission, FAILED for good after three
failures, fixed 115 s refresh that ignores the server's Expires)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

RETRANSMIT = (0.5, 1.0, 2.0, 4.0)  # RFC 3261 timer E doubling from T1, capped: ~7.5 s in all


@dataclass
class RegistrationPolicy:
    """Backoff after failures (``base`` doubling up to ``cap``), refresh before expiry."""

    base: float = 2.0
    cap: float = 300.0
    failures: int = 0
    registered: bool = False

    def success(self, expires: int) -> float:
        """Registered for ``expires`` seconds: delay until the refresh."""
        self.failures = 0
        self.registered = True
        expires = max(expires, 2)
        # Refresh with a margin: 10% of the lifetime, at least 1 s, at most 30 s.
        return max(expires - min(max(expires * 0.1, 1.0), 30.0), 1.0)

    def failure(self) -> float:
        """A REGISTER failed (timeout, 4xx/5xx): delay before the next try."""
        self.failures += 1
        self.registered = False
        return min(self.base * 2 ** (self.failures - 1), self.cap)


def granted_expires(expires_header: str | None, contacts: list[str], default: int,
                    is_ours: Callable[[str], bool] | None = None) -> int:
    """The lifetime the registrar granted: our Contact's ``expires`` param, else the Expires
    header, else what we asked for (RFC 3261 section 10.2.4). A registrar lists every binding of
    the AOR (other phones, stale ones of ours): with ``is_ours`` only our binding counts, not
    whichever comes first. A lone Contact is ours even when the registrar rewrote it."""
    for contact in contacts:
        if is_ours is not None and len(contacts) > 1 and not is_ours(contact):
            continue
        match = re.search(r";\s*expires\s*=\s*(\d+)", contact, re.IGNORECASE)
        if match:
            return int(match.group(1))
    if expires_header and expires_header.strip().isdigit():
        return int(expires_header.strip())
    return default
