"""The decisions of sync as plain functions over data (no sockets, clocks or threads):
how many outbox rows go into a sealed batch, how far acknowledgements reach, what a
response means, and how long to wait before trying again."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

# Outcome kinds. "ack" also covers "already have it": the records are at the receiver.
ACK = "ack"
RETRY = "retry"  # transient: try the same bytes again later (Retry-After or backoff)
PARK = "park"  # this batch is refused for good: keep it aside, go on with the next
CONFLICT = "conflict"  # the receiver holds different bytes under this batch's key: park
AUTH = "auth"  # credentials or clock refused: no batch can pass; stop this sink's run


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: str
    reason: str = ""
    retry_after_s: float | None = None  # from the receiver, overrides the backoff
    server_epoch: float | None = None  # receiver's clock (Date), to correct a skewed timestamp


@dataclass(frozen=True, slots=True)
class BatchSpan:
    """A sealed batch as far as acknowledgements care."""

    seq: int
    first_seq: int
    last_seq: int
    state: str  # "sealed" | "acked" | "parked"


def fit_batch(
    count: int, encode: Callable[[int], bytes], max_bytes: int,
    bytes_per_row: float | None = None, max_tries: int = 8,
) -> tuple[int, bytes]:
    """The largest prefix (of ``count`` rows, found by a few trial encodings) whose encoding
    fits ``max_bytes``. ``bytes_per_row`` (from the previous batch) gives the first guess.
    One row always goes, even if alone it is larger (the sink then parks it with a reason
    rather than blocking everything behind it)."""
    n = count
    if not bytes_per_row and count > 2000:
        # No history: price a small trial rather than encoding everything (seconds on a Pi).
        # Larger batches compress better, so the trial's bytes per row are shaded down.
        bytes_per_row = len(encode(1000)) / 1000 * 0.85
    if bytes_per_row:
        n = max(1, min(count, int(max_bytes * 0.9 / bytes_per_row)))
    data = encode(n)
    for tries in range(1, max_tries + 1):
        if len(data) > max_bytes and n > 1:
            # Compressed size grows about linearly with rows; aim a little under the limit.
            shrink = max_bytes / len(data) * (0.92 if tries < max_tries - 1 else 0.5)
            n = max(1, min(n - 1, int(n * shrink)))
        elif len(data) < max_bytes * 0.75 and n < count:
            grown = min(count, int(n * max_bytes * 0.9 / max(len(data), 1)))
            if grown <= n:
                break
            bigger = encode(grown)
            if len(bigger) > max_bytes:
                break
            n, data = grown, bigger
            continue
        else:
            break
        data = encode(n)
    while len(data) > max_bytes and n > 1:  # guaranteed end: halve until it fits
        n //= 2
        data = encode(n)
    return n, data


def ack_frontier(batches: Sequence[BatchSpan], current: int) -> int:
    """The outbox seq up to which everything is acknowledged: the end of the run of acked
    batches from the oldest one; a parked or unsent batch stops it. Never moves back."""
    frontier = current
    for batch in sorted(batches, key=lambda b: b.seq):
        if batch.last_seq <= frontier:
            continue
        if batch.state != "acked":
            break
        frontier = batch.last_seq
    return max(frontier, current)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential backoff with jitter (half fixed, half random, so retries from many
    boxes after an HQ outage spread out but never collapse to zero)."""

    base_s: float = 2.0
    cap_s: float = 300.0
    max_retry_after_s: float = 3600.0

    def delay(self, failures: int, rand: Callable[[], float], retry_after_s: float | None = None
              ) -> float:
        if retry_after_s is not None:
            return min(max(retry_after_s, 0.0), self.max_retry_after_s)
        ceiling = min(self.cap_s, self.base_s * 2 ** max(failures - 1, 0))
        return ceiling / 2 + ceiling / 2 * rand()


def parse_retry_after(value: str | None, now_epoch: float) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(parsedate_to_datetime(value).timestamp() - now_epoch, 0.0)
    except (TypeError, ValueError, IndexError):
        return None


def _server_epoch(headers: Mapping[str, str]) -> float | None:
    try:
        return parsedate_to_datetime(headers.get("Date", "")).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def _json(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _snippet(body: bytes) -> str:
    return body[:200].decode("utf-8", "replace").strip()


def classify_hq(status: int, headers: Mapping[str, str], body: bytes, batch_id: str,
                now_epoch: float, *, who: str = "HQ", committed: bool = False,
                forged: bool = False) -> Outcome:
    """What an HQ response to a batch POST means (see sync/PROTOCOL.md). ``who`` names HQ in
    reasons ("HQ 10.0.0.5:8750"); ``committed``: the reply is HQ's signed proof that it holds
    this batch (sync._hq_proof); ``forged``: it carries a signature that is not HQ's."""
    if 200 <= status < 300:
        ack = _json(body)
        # A 2xx that does not name the batch is not HQ (a captive portal, a proxy's page):
        # treating it as an acknowledgement would lose the batch.
        if forged:
            return Outcome(RETRY, f"{who} answered {status} with a signature that is not "
                                  "HQ's (a middlebox?)")
        if ack.get("batch") == batch_id and ack.get("status") in ("stored", "duplicate"):
            return Outcome(ACK, str(ack.get("status")))
        return Outcome(RETRY, f"{who} answered {status} without an acknowledgement of the "
                              "batch (a captive portal?)")
    if 300 <= status < 400:
        # Never followed: a redirect is a captive portal or a misconfigured proxy, not HQ.
        where = headers.get("Location", "")
        return Outcome(RETRY, f"{who} answered {status} (a captive portal?)"
                              + (f" redirecting to {where[:100]}" if where else ""))
    if status == 409:
        # Only HQ's signed "already committed" acknowledges: anything can answer 409.
        if committed:
            return Outcome(ACK, "duplicate")
        return Outcome(RETRY, f"{who} answered 409 without HQ's signed proof of the batch "
                              "(a middlebox?)")
    if status in (429, 503):
        return Outcome(RETRY, f"{who} answered {status}",
                       parse_retry_after(headers.get("Retry-After"), now_epoch))
    if status in (401, 403):
        error = _json(body).get("error", "")
        if error in ("stale-timestamp", "replay"):
            # Our clock is off (or a same-millisecond resend): retry re-stamped, with HQ's
            # clock taken from its Date header.
            return Outcome(RETRY, f"HTTP {status} {error}", None, _server_epoch(headers))
        return Outcome(AUTH, f"HTTP {status} {error or _snippet(body)}".strip())
    if status == 408 or status >= 500:
        return Outcome(RETRY, f"{who} answered {status}")
    if status == 416:  # a resumed upload HQ could not continue: sent again from its count
        return Outcome(RETRY, "HTTP 416 resume offset")
    return Outcome(PARK, f"HTTP {status}: {_snippet(body)}")


