"""Counts, numbers and sizes written for people: "1 answer", "4194304", "4 MiB".

Every command's output and every config message goes through these, so that no operator reads
"1 errors" or "4e+06".
"""

from __future__ import annotations

from decimal import Decimal

# Plurals that are not the singular + "s"; the rest of the CLI's nouns are regular.
_IRREGULAR = {
    "batch": "batches",
    "box": "boxes",
    "entry": "entries",
    "SMS": "SMS",
}


def plural_of(noun: str) -> str:
    return _IRREGULAR.get(noun, noun + "s")


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """``plural(1, "answer")`` is "1 answer", ``plural(2, "batch")`` "2 batches"."""
    word = noun if count == 1 else (plural_form or plural_of(noun))
    return f"{count} {word}"


def number(value: float) -> str:
    """A number as a person writes it: 4000000 not 4e+06, 0.5, 31536000; never an exponent."""
    if isinstance(value, bool):
        raise TypeError("number() takes an int or a float, not a bool")
    if isinstance(value, int):
        return str(value)
    if value.is_integer():
        return str(int(value))
    # repr gives the shortest text that reads back as the same float; Decimal writes it out
    # without the exponent repr would use for very small or very large values.
    return format(Decimal(repr(value)), "f")


_UNITS = (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024))


def size(n_bytes: int) -> str:
    """A byte count in the largest binary unit that divides it exactly ("48 KiB", "4 MiB"),
    otherwise in bytes ("1000 bytes"): a rounded figure would hide the exact limit."""
    for unit, factor in _UNITS:
        if n_bytes and n_bytes % factor == 0:
            return f"{n_bytes // factor} {unit}"
    return plural(n_bytes, "byte")
