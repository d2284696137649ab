"""Caller numbers never leave the box, nor reach a log, in the clear.

A number becomes a pseudonym with a keyed HMAC-SHA256 (the key is per deployment, in the
secrets file): the same caller gets the same pseudonym on every box of the deployment, so HQ
can count repeat callers, but nobody without the key can recover or test a number.
"""

from __future__ import annotations

import hashlib
import hmac
import re

_KEEP = re.compile(r"[^0-9+*#]")


def normalise_number(number: str) -> str:
    """Strip spaces, dashes, brackets: "+255 712-345 678" and "+255712345678" are one caller."""
    return _KEEP.sub("", number.strip())


class Pseudonymiser:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("pseudonym key must be at least 16 bytes")
        self._key = key

    def pseudonym(self, number: str | None) -> str | None:
        """"p:" + 20 hex digits (80 bits: no collisions among a deployment's callers), or None
        for a withheld or empty number."""
        if not number or not normalise_number(number):
            return None
        digest = hmac.new(self._key, normalise_number(number).encode(), hashlib.sha256)
        return "p:" + digest.hexdigest()[:20]


def redact(number: str | None) -> str:
    """For the rare log line that must hint at a number: keep the last two digits."""
    if not number:
        return "withheld"
    digits = normalise_number(number)
    return "*" * max(len(digits) - 2, 0) + digits[-2:]
