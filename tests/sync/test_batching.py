from __future__ import annotations

from sync._batching import (
    ACK,
    AUTH,
    PARK,
    RETRY,
    Backoff,
    BatchSpan,
    ack_frontier,
    classify_hq,
    fit_batch,
    parse_retry_after,
)

ACK_BODY = b'{"batch":"b.7","status":"stored"}'


def test_classification_table():
    def kind(status, body=b"", headers=None):
        return classify_hq(status, headers or {}, body, "b.7", 1000.0).kind

    assert kind(200, ACK_BODY) == ACK
    assert kind(200, b'{"batch":"b.7","status":"duplicate"}') == ACK
    assert kind(200, b"<html>captive portal</html>") == RETRY
    assert kind(200, b'{"batch":"b.8","status":"stored"}') == RETRY
    # Anything can answer 409 (a middlebox): only HQ's signed proof acknowledges.
    assert kind(409) == RETRY and kind(409, b'{"batch":"b.7","status":"duplicate"}') == RETRY
    assert classify_hq(409, {}, b"", "b.7", 0, committed=True).kind == ACK
    # Redirects are captive portals, never followed, never parking.
    assert kind(302, headers={"Location": "http://portal/login"}) == RETRY
    assert kind(301) == RETRY and kind(307) == RETRY
    # A signed acknowledgement whose signature is not HQ's is no acknowledgement.
    assert classify_hq(200, {}, ACK_BODY, "b.7", 0, forged=True).kind == RETRY
    assert kind(500) == RETRY and kind(502) == RETRY and kind(408) == RETRY
    assert kind(400, b"bad") == PARK and kind(413) == PARK and kind(422) == PARK
    assert kind(401, b'{"error":"bad-signature"}') == AUTH
    assert kind(401, b'{"error":"stale-timestamp"}') == RETRY


def test_retry_after_seconds_and_dates():
    out = classify_hq(429, {"Retry-After": "12"}, b"", "b", 0)
    assert (out.kind, out.retry_after_s) == (RETRY, 12.0)
    assert classify_hq(503, {}, b"", "b", 0).retry_after_s is None
    assert parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", 40.0) == 60.0
    assert parse_retry_after("soon", 0) is None


def test_backoff_is_capped_exponential_with_injected_jitter():
    b = Backoff(base_s=1, cap_s=16)
    assert [b.delay(n, lambda: 1.0) for n in range(1, 7)] == [1, 2, 4, 8, 16, 16]
    assert [b.delay(n, lambda: 0.0) for n in range(1, 4)] == [0.5, 1, 2]
    assert b.delay(3, lambda: 0.5, retry_after_s=30) == 30
    assert Backoff(max_retry_after_s=60).delay(1, lambda: 0, retry_after_s=10**6) == 60


def test_ack_frontier_stops_at_first_gap():
    spans = [BatchSpan(1, 1, 10, "acked"), BatchSpan(2, 11, 20, "sealed"),
             BatchSpan(3, 21, 30, "acked")]
    assert ack_frontier(spans, 0) == 10
    spans[1] = BatchSpan(2, 11, 20, "acked")
    assert ack_frontier(spans, 0) == 30
    spans[1] = BatchSpan(2, 11, 20, "parked")
    assert ack_frontier(spans, 10) == 10
    assert ack_frontier([], 5) == 5


def test_fit_batch_shrinks_to_the_byte_limit():
    n, data = fit_batch(1000, lambda k: b"x" * (k * 10), 2500)
    assert len(data) <= 2500 and n >= 200
    n, data = fit_batch(5, lambda k: b"x" * 10_000, 100)  # one row always goes
    assert n == 1


def test_fit_batch_without_history_prices_a_small_trial_first():
    sizes: list[int] = []

    def encode(k: int) -> bytes:
        sizes.append(k)
        return b"x" * (k * 5)

    n, data = fit_batch(20_000, encode, 48 * 1024)
    assert sizes[0] == 1000 and 20_000 not in sizes  # never the whole 20,000 rows
    assert len(data) <= 48 * 1024 and n > 7000
