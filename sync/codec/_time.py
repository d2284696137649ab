"""``YYYY-MM-DDTHH:MM:SS.mmmZ`` stamps as epoch milliseconds and back.

Cached: a batch repeats its stamps (a record's own time is also its created time) and its
days, and time.strftime/datetime would cost more than the lookups.
"""

from __future__ import annotations

import calendar
import re
import time
from datetime import datetime
from functools import lru_cache

_ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@lru_cache(maxsize=4096)
def _day_ms(day: str) -> int | None:
    """``YYYY-MM-DD`` as epoch milliseconds of its midnight (None: no such date)."""
    try:
        y, m, d = int(day[0:4]), int(day[5:7]), int(day[8:10])
        datetime(y, m, d)  # validates month and day
    except ValueError:
        return None
    return calendar.timegm((y, m, d, 0, 0, 0)) * 1000


@lru_cache(maxsize=1 << 16)
def iso_ms(value: str) -> int | None:
    """The stamp's epoch milliseconds; None for anything else (or an impossible date)."""
    if not _ISO_MS.fullmatch(value):
        return None
    day = _day_ms(value[:10])
    hour, minute, second = int(value[11:13]), int(value[14:16]), int(value[17:19])
    if day is None or hour > 23 or minute > 59 or second > 59:
        return None
    return day + ((hour * 60 + minute) * 60 + second) * 1000 + int(value[20:23])


@lru_cache(maxsize=4096)
def _ms_day(day: int) -> str:
    t = time.gmtime(day * 86400)
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"


@lru_cache(maxsize=1 << 16)
def ms_iso(ms: int) -> str:
    day, rest = divmod(ms, 86_400_000)
    seconds, millis = divmod(rest, 1000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return f"{_ms_day(day)}{hour:02d}:{minute:02d}:{second:02d}.{millis:03d}Z"
