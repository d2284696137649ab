"""The outbound queue in the store: dedup, one attempt row per dial, numbers erased when a job
ends, records pseudonymised, the purge only after every sink has the records."""

from __future__ import annotations

from edge.store import Store, move_ack_cursor

NUMBER = "+255712345678"


def test_a_job_from_queue_to_done(store: Store) -> None:
    job = store.outbound.enqueue("missed", NUMBER, "p:a")
    assert job is not None
    assert store.outbound.enqueue("busy", NUMBER, "p:a") is None  # one waiting job per caller
    attempt = store.outbound.begin_attempt(job, "sim")
    assert attempt is not None and attempt.number == NUMBER and attempt.n == 1
    assert store.outbound.begin_attempt(job, "sim") is None  # not pending while dialling
    store.outbound.finish_attempt(attempt.id, "busy", retry_utc="2000-01-01T00:00:00.000Z")
    again = store.outbound.begin_attempt(job, "sim")
    assert again is not None and again.n == 2
    store.outbound.finish_attempt(again.id, "answered", call_id=None)
    row = store.query("SELECT status, number, attempts, last_outcome FROM outbound")[0]
    assert row == {"status": "done", "number": None, "attempts": 2, "last_outcome": "answered"}
    assert NUMBER not in "\n".join(r.body for r in store.reads.outbox_after(0))
    kinds = [(r.kind, r.version) for r in store.reads.outbox_after(0)]
    assert kinds == [("job", 1), ("attempt", 1), ("attempt", 1), ("job", 2)]


def test_called_back_recently_is_not_queued_again(store: Store) -> None:
    job = store.outbound.enqueue("missed", NUMBER, "p:a")
    attempt = store.outbound.begin_attempt(job, "sim")
    store.outbound.finish_attempt(attempt.id, "answered")
    assert store.outbound.enqueue("missed", NUMBER, "p:a", dedup_window_s=3600) is None
    assert store.outbound.enqueue("missed", NUMBER, "p:a", dedup_window_s=0) is not None


def test_out_of_attempts_fails_and_erases_the_number(store: Store) -> None:
    job = store.outbound.enqueue("campaign", NUMBER, "p:a")
    attempt = store.outbound.begin_attempt(job, "sim")
    store.outbound.finish_attempt(attempt.id, "no-answer", retry_utc=None)
    assert store.query("SELECT status, number FROM outbound") == [
        {"status": "failed", "number": None}]


def test_purge_waits_for_every_sink(store: Store) -> None:
    job = store.outbound.enqueue("missed", NUMBER, "p:a")
    store.outbound.finish_attempt(store.outbound.begin_attempt(job, "sim").id, "answered")
    later = "2100-01-01T00:00:00.000Z"
    assert store.outbound.purge(later) == 0  # no sink has the records yet
    last = store.reads.outbox_after(0)[-1].seq
    with store._write() as db:
        move_ack_cursor(db.conn, "hq", last, later)
        move_ack_cursor(db.conn, "twilio", last - 1, later)
    assert store.outbound.purge(later) == 0  # the slowest sink lacks the final version
    with store._write() as db:
        move_ack_cursor(db.conn, "twilio", last, later)
    assert store.outbound.purge(later) == 1
    assert store.query("SELECT count(*) AS n FROM outbound_attempts") == [{"n": 0}]
