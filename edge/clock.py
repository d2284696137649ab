"""Time as data: every record carries UTC wall time, a monotonic reading, the boot id and a
clock-quality flag, so HQ can repair timestamps taken while the clock was wrong.

Quality is one of:
- ``ntp``: the kernel reports the clock synchronised (adjtimex without STA_UNSYNC);
- ``network``: the system clock is not synchronised but a GSM network time was received and
  seen to run true (two readings apart in time agree with the monotonic clock), and stamps are
  corrected by the offset it gave. A module clock that is frozen or runs wild never gets here,
  and NTP is always preferred: with the kernel synchronised, network times are ignored;
- ``unsynchronised``: neither (a Pi without RTC resumes from fake-hwclock's last saved time).

Timeouts and durations never use wall time: only ``mono``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

QUALITIES = ("unsynchronised", "network", "ntp")

# Wall-minus-monotonic moving by more than this between two readings is a clock step.
STEP_THRESHOLD_S = 2.0
# Network times outside these years are a modem with an invalid RTC, not the network.
PLAUSIBLE_YEARS = range(2024, 2100)
# A network time is trusted once two readings at least NETWORK_SPAN_S apart (monotonic) have
# moved with the monotonic clock to within NETWORK_TOLERANCE_S (+CCLK has whole seconds): a
# frozen module clock moves 0 s in that span, a wild one too much.
NETWORK_SPAN_S = 2.0
NETWORK_TOLERANCE_S = 1.5


@dataclass(frozen=True, slots=True)
class Stamp:
    utc: str  # ISO 8601, milliseconds, "Z"
    mono: float  # seconds, time.monotonic() of this boot, to the millisecond (see record_mono)
    boot_id: str
    quality: str


@dataclass(frozen=True, slots=True)
class ClockCorrection:
    """The clock moved: at monotonic ``mono`` of boot ``boot_id`` the right UTC was ``utc``
    (it had read ``previous_utc``). Synced to HQ so earlier stamps of the boot can be fixed."""

    boot_id: str
    mono: float
    utc: str
    previous_utc: str
    source: str


def format_utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def record_mono(mono: float) -> float:
    """A monotonic reading as stored and synced: milliseconds, cut the way ``format_utc`` cuts
    the UTC stamp. Finer digits are noise that costs bytes on the wire (HQ only needs
    ``utc + (mono - correction.mono)`` to the millisecond of the UTC stamps), and cutting both
    alike keeps ``utc - mono`` steady while the clock does not step. Timeouts read the clock
    itself, not this."""
    return (round(mono * 1_000_000) // 1000) / 1000


def read_boot_id(path: Path = Path("/proc/sys/kernel/random/boot_id")) -> str:
    try:
        return path.read_text().strip()
    except OSError:  # not Linux: a per-process id still separates monotonic epochs
        import uuid

        return "proc-" + uuid.uuid4().hex


class _Timex(ctypes.Structure):
    # struct timex from <sys/timex.h>: only the leading fields are read; the tail is padding.
    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("_rest", ctypes.c_byte * 256),
    ]


_STA_UNSYNC = 0x0040
_TIME_ERROR = 5


TIMESYNC_FLAG = Path("/run/systemd/timesync/synchronized")


def kernel_clock_synchronised() -> bool:
    """True when the kernel's NTP discipline says the clock is synchronised (what
    timedatectl shows as "System clock synchronized").

    Under the service's ProtectClock= the adjtimex call is refused (EPERM): then the flag file
    systemd-timesyncd touches once it has synchronised the clock decides."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        tx = _Timex()
        state = libc.adjtimex(ctypes.byref(tx))
    except (OSError, AttributeError):
        state = -1
    if state == -1:
        return TIMESYNC_FLAG.exists()
    return state != _TIME_ERROR and not (tx.status & _STA_UNSYNC)


class Clock:
    """Produces stamps and notices clock steps. Thread-safe. Inject the sources in tests."""

    def __init__(
        self,
        wall: Callable[[], float] = time.time,
        mono: Callable[[], float] = time.monotonic,
        boot_id: str | None = None,
        synchronised: Callable[[], bool] = kernel_clock_synchronised,
        on_correction: Callable[[ClockCorrection], None] | None = None,
        probe_interval_s: float = 10.0,
    ) -> None:
        self._wall = wall
        self._mono = mono
        self.boot_id = boot_id or read_boot_id()
        self._synchronised = synchronised
        self._probe_interval = probe_interval_s
        self._lock = threading.Lock()
        self._network_offset: float | None = None
        self._network_reading: tuple[float, float] | None = None  # (network epoch, mono)
        self._synced = False
        self._probed_at: float | None = None
        self._last_offset: float | None = None
        self.on_correction = on_correction

    def mono(self) -> float:
        return self._mono()

    def epoch(self) -> float:
        """The wall clock as UTC epoch seconds (for schedules such as calling hours; records
        take ``now()``)."""
        return self._wall()

    def now(self) -> Stamp:
        with self._lock:
            mono = self._mono()
            wall = self._wall()
            self._probe(mono)
            correction = self._track_steps(wall, mono)
            if self._synced:
                quality, utc = "ntp", wall
            elif self._network_offset is not None:
                quality, utc = "network", wall + self._network_offset
            else:
                quality, utc = "unsynchronised", wall
            stamp = Stamp(format_utc(utc), record_mono(mono), self.boot_id, quality)
        if correction and self.on_correction:
            self.on_correction(correction)
        return stamp

    def _probe(self, mono: float) -> None:
        if self._probed_at is None or mono - self._probed_at >= self._probe_interval:
            self._synced = self._synchronised()
            self._probed_at = mono

    def _track_steps(self, wall: float, mono: float) -> ClockCorrection | None:
        offset = wall - mono
        previous, self._last_offset = self._last_offset, offset
        if previous is None or abs(offset - previous) < STEP_THRESHOLD_S:
            return None
        return ClockCorrection(
            self.boot_id, record_mono(mono), format_utc(wall), format_utc(previous + mono), "system"
        )

    def note_network_time(self, utc: datetime) -> ClockCorrection | None:
        """A line reports the network's time. Returns the correction when it is adopted; None
        when it is not (yet): implausible years, a clock not yet seen to run true (one
        reading, or readings too close together), one that does not run with the monotonic
        clock (frozen, wild, or jumped: the next reading may confirm the jump), or the kernel
        synchronised by NTP."""
        if utc.tzinfo is None or utc.year not in PLAUSIBLE_YEARS:
            return None
        with self._lock:
            mono = self._mono()
            wall = self._wall()
            self._probe(mono)
            if self._synced:
                self._network_reading = None
                return None
            network = utc.timestamp()
            previous, self._network_reading = self._network_reading, (network, mono)
            if previous is None:
                return None
            span = mono - previous[1]
            if span < NETWORK_SPAN_S:
                self._network_reading = previous  # the older reading makes the longer check
                return None
            if abs((network - previous[0]) - span) > NETWORK_TOLERANCE_S:
                return None
            offset = network - wall
            old = self._network_offset
            self._network_offset = offset
        if old is not None and abs(old - offset) < STEP_THRESHOLD_S:
            return None
        correction = ClockCorrection(
            self.boot_id, record_mono(mono), format_utc(wall + offset),
            format_utc(wall + (old or 0.0)), "network",
        )
        if self.on_correction:
            self.on_correction(correction)
        return correction
