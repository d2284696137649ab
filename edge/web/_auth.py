"""Password check and a brake on guessing. Sans-IO: the caller passes monotonic times."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field

SECRET_KEY = "status_page_password"


def password_ok(given: str | None, expected: str) -> bool:
    """Constant-time comparison (of UTF-8 bytes: compare_digest takes ASCII str only)."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


@dataclass
class Throttle:
    """After ``limit`` wrong passwords from one address within ``window_s``, that address is
    refused for ``window_s`` without its password being checked. The page is on a LAN, but a
    phone-sized password should still not be guessable at line speed."""

    limit: int = 10
    window_s: float = 60.0
    _failures: dict[str, list[float]] = field(default_factory=dict)

    def _recent(self, client: str, now: float) -> list[float]:
        recent = [t for t in self._failures.get(client, []) if now - t < self.window_s]
        if recent:
            self._failures[client] = recent
        else:
            self._failures.pop(client, None)
        return recent

    def blocked(self, client: str, now: float) -> bool:
        return len(self._recent(client, now)) >= self.limit

    def failed(self, client: str, now: float) -> None:
        self._recent(client, now)
        self._failures.setdefault(client, []).append(now)
        if len(self._failures) > 1000:  # bounded memory whatever the LAN sends
            oldest = min(self._failures, key=lambda c: self._failures[c][-1])
            del self._failures[oldest]

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)
