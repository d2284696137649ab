"""Both storage back ends behave the same (each test runs on SQLite and PostgreSQL): exactly
once under concurrent workers, replays, key rotation, partial uploads, heartbeats."""

from __future__ import annotations

import threading
import time

from sync.codec import Record
from sync.hq import open_storage

NOW = "2026-11-27T10:00:00.000Z"


def _records(box: str, n: int, start: int = 0) -> list[Record]:
    return [Record(i + 1, f"{box}.e.{start + i}", 1, "call", NOW, {"id": f"{box}.e.{start + i}",
                                                                   "n": i})
            for i in range(n)]


def test_two_workers_committing_the_same_batch_at_once_commit_it_once(database, storage):
    """Two workers (each its own storage, its own connections) receive the same batch at the
    same moment, 20 times over: one commit each time, and both acknowledge."""
    other = open_storage(database)
    try:
        for round_no in range(20):
            records = _records("box-1", 300, start=round_no * 1000)
            batch_id = f"box-1.e.hq.{round_no}"
            barrier = threading.Barrier(2)
            results = []

            def worker(st, sig, records=records, batch_id=batch_id, barrier=barrier,
                       results=results):
                barrier.wait()
                results.append(st.store_batch("box-1", batch_id, "ab" * 32, records, sig, 1,
                                              NOW))

            threads = [threading.Thread(target=worker, args=(st, f"sig-{round_no}-{i}"))
                       for i, st in enumerate((storage, other))]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            assert sorted(r.status for r in results) == ["duplicate", "stored"]
            assert sorted(r.new for r in results) == [0, 300]
            assert storage.batch_deliveries()[batch_id] == 2
        assert storage.count() == other.count() == 20 * 300
    finally:
        other.close()


def test_a_signature_is_accepted_once(storage):
    records = _records("box-1", 3)
    first = storage.store_batch("box-1", "box-1.e.hq.1", "00", records, "sig", 1, NOW)
    again = storage.store_batch("box-1", "box-1.e.hq.1", "00", records, "sig", 1, NOW)
    assert (first.status, again.status) == ("stored", "replay")
    assert storage.signature_seen("sig")
    storage.prune_signatures(2, force=True)
    assert not storage.signature_seen("sig")


def test_key_rotation_keeps_the_old_key_until_the_box_uses_the_new_one(storage):
    assert [name for name, _ in storage.box_keys("box-1", NOW)] == ["current"]
    assert storage.rotate_key("box-1", "new-secret-0123456789", "2026-12-31T00:00:00.000Z")
    keys = dict(storage.box_keys("box-1", NOW))
    assert keys["current"] == b"new-secret-0123456789" and "previous" in keys
    # past the grace: the old key is gone
    assert "previous" not in dict(storage.box_keys("box-1", "2027-01-01T00:00:00.000Z"))
    storage.retire_previous_key("box-1")
    assert "previous" not in dict(storage.box_keys("box-1", NOW))
    assert not storage.rotate_key("box-9", "x" * 20, NOW)
    assert storage.box_keys("box-9", NOW) == []


def test_partials_are_kept_per_box_and_expire(storage):
    now = time.time()
    for i in range(6):
        storage.keep_partial("box-1", f"box-1.e.hq.{i}", b"part%d" % i, now + i)
    assert storage.partial("box-1", "box-1.e.hq.5", 60, now + 6) == b"part5"
    assert storage.partial("box-1", "box-1.e.hq.0", 60, now + 6) == b""  # 4 per box
    assert storage.partial("box-1", "box-1.e.hq.5", 60, now + 600) == b""  # expired
    storage.drop_partial("box-1", "box-1.e.hq.5")
    assert storage.partial("box-1", "box-1.e.hq.5", 60, now + 6) == b""


def test_heartbeats_and_last_seen(storage):
    storage.record_heartbeat("box-1", {"backlog": 5, "clock": "ntp"}, NOW)
    (info,) = storage.boxes()
    assert info.heartbeat == {"backlog": 5, "clock": "ntp"}
    assert info.last_seen_utc == info.heartbeat_utc == NOW
    storage.store_batch("box-1", "box-1.e.hq.1", "00", _records("box-1", 1), "s", 1,
                        "2026-11-28T00:00:00.000Z")
    assert storage.boxes()[0].last_seen_utc == "2026-11-28T00:00:00.000Z"
