"""The request queue (sync/hq/storage/request_queue.py) on SQLite and PostgreSQL: a record
is queued once whatever the uploads, a claim is exclusive and committed before anything is
sent, an abandoned claim becomes uncertain, only an operator puts a request back."""

from __future__ import annotations

import threading

from sync.hq import open_storage
from sync.hq.perform._rules import ABANDONED, RELEASABLE
from sync.hq.storage.request_queue import RequestQueue

from .helpers import NOW, posts, request_record, store

LATER = "2026-11-27T11:00:00.000Z"


def test_a_record_is_queued_once_however_often_it_is_uploaded(storage):
    queue = RequestQueue(storage)
    records = posts("http://127.0.0.1:9", 3)
    store(storage, records)
    assert queue.take_in(NOW) == 3
    store(storage, records)  # the same records in another batch (a box re-sending)
    assert queue.take_in(NOW) == 0
    claim = queue.claim("c1", "me", 1.0, NOW)
    queue.finish(claim, "done", 200, "ok", None, NOW)
    store(storage, records[:1])  # and once more after it was performed
    assert queue.take_in(LATER) == 0
    assert queue.counts() == {"done": 1, "queued": 2}
    assert RequestQueue(storage).take_in(LATER) == 0  # a second performer's queue too


def test_a_claim_is_exclusive_and_carries_the_record(storage):
    queue = RequestQueue(storage)
    store(storage, [request_record(1, {"url": "x"})])
    queue.take_in(NOW)
    claim = queue.claim("c1", "host:1", 5.0, NOW)
    assert claim is not None and claim.box == "box-1"
    assert claim.body["request"] == {"url": "x"} and claim.body["widget"] == "make-http-request"
    assert queue.claim("c2", "host:2", 5.0, NOW) is None
    row = queue.row(claim.request_id)
    assert (row.state, row.claimed_by, row.claimed_utc) == ("claimed", "host:1", NOW)


def test_many_claimers_at_once_take_each_request_once(database, storage):
    store(storage, posts("http://127.0.0.1:9", 60))
    RequestQueue(storage).take_in(NOW)
    others = [open_storage(database) for _ in range(4)]
    taken: list[list[str]] = [[] for _ in others]
    barrier = threading.Barrier(len(others))

    def claimer(i: int) -> None:
        queue = RequestQueue(others[i])
        barrier.wait()
        while (claim := queue.claim(f"c{i}-{len(taken[i])}", f"p{i}", 1.0, NOW)) is not None:
            taken[i].append(claim.request_id)

    try:
        threads = [threading.Thread(target=claimer, args=(i,)) for i in range(len(others))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        everything = [rid for ids in taken for rid in ids]
        assert len(everything) == len(set(everything)) == 60
    finally:
        for other in others:
            other.close()


def test_a_claim_whose_performer_died_becomes_uncertain_and_is_not_claimed_again(storage):
    queue = RequestQueue(storage)
    store(storage, posts("http://127.0.0.1:9", 2))
    queue.take_in(NOW)
    claim = queue.claim("dead", "host:1", 100.0, NOW)  # the performer dies here
    assert queue.abandon_expired(99.0, ABANDONED, LATER) == []  # lease not over yet
    assert queue.abandon_expired(101.0, ABANDONED, LATER) == [claim.request_id]
    row = queue.row(claim.request_id)
    assert row.state == "uncertain" and "may have acted" in row.error
    second = queue.claim("next", "host:2", 200.0, LATER)
    assert second is not None and second.request_id != claim.request_id
    assert queue.claim("more", "host:2", 200.0, LATER) is None


def test_a_late_outcome_is_kept_but_not_after_an_operator_released_it(storage):
    queue = RequestQueue(storage)
    store(storage, posts("http://127.0.0.1:9", 1))
    queue.take_in(NOW)
    slow = queue.claim("slow", "host:1", 1.0, NOW)
    queue.abandon_expired(2.0, ABANDONED, NOW)
    assert queue.finish(slow, "done", 200, "ok", None, LATER)  # the answer came after all
    assert queue.row(slow.request_id).state == "done"
    assert not queue.release(slow.request_id, RELEASABLE, LATER)  # done stays done

    store(storage, posts("http://127.0.0.1:9", 1, start=2))
    queue.take_in(NOW)
    lost = queue.claim("lost", "host:1", 1.0, NOW)
    assert not queue.release(lost.request_id, RELEASABLE, LATER)  # claimed: not releasable
    queue.abandon_expired(2.0, ABANDONED, NOW)
    assert queue.release(lost.request_id, RELEASABLE, LATER)
    assert not queue.finish(lost, "done", 200, "ok", None, LATER)  # released: its claim is gone
    row = queue.row(lost.request_id)
    assert (row.state, row.releases, row.error, row.claimed_by) == ("queued", 1, None, None)
    assert queue.claim("again", "host:2", 3.0, LATER).request_id == lost.request_id


def test_listing_by_state_and_box(storage):
    queue = RequestQueue(storage)
    store(storage, posts("http://127.0.0.1:9", 3))
    queue.take_in(NOW)
    claim = queue.claim("c", "me", 1.0, NOW)
    queue.finish(claim, "refused", None, None, "no host allowed", NOW)
    assert [r.request_id for r in queue.rows("refused")] == [claim.request_id]
    assert len(queue.rows(box="box-1")) == 3 and queue.rows(box="box-2") == []
    assert queue.rows("refused")[0].to_json()["error"] == "no host allowed"
