"""Phone numbers as the box dials them: E.164 (``+`` and 8 to 15 digits), from what a CSV or a
caller id gives. National numbers take the configured country code; anything else is refused
with a reason, never guessed."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-().]")
_E164 = re.compile(r"\+[1-9]\d{7,14}")


class BadNumber(ValueError):
    pass


def to_e164(raw: str, country_code: str = "") -> str:
    """``raw`` as E.164. ``country_code`` (digits, e.g. "255") turns a national number with its
    trunk prefix ("0712 345 678") into "+255712345678"; "00" international prefixes are
    accepted. Raises BadNumber saying what is wrong."""
    text = _SEPARATORS.sub("", raw.strip())
    if not text:
        raise BadNumber("empty")
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text.startswith("+"):
        if not text.isdigit():
            raise BadNumber(f"{raw!r} has characters other than digits")
        if not country_code:
            raise BadNumber(f"{raw!r} is not international (+...) and no country code is "
                            "configured ([outbound] country_code)")
        text = f"+{country_code}{text[1:] if text.startswith('0') else text}"
    if not _E164.fullmatch(text):
        raise BadNumber(f"{raw!r} is not a phone number (E.164: + and 8 to 15 digits)")
    return text
