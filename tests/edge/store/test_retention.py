"""Outbox retention (edge/store/_retention.py): rows every sink has acknowledged go once old
enough; never a row some sink still needs."""

from __future__ import annotations

from pathlib import Path

from edge.clock import format_utc
from edge.store import move_ack_cursor, register_sink
from tests.support import fill_surveys, open_store


def test_only_rows_every_sink_acknowledged_and_old_enough_are_deleted(tmp_path: Path) -> None:
    store, sim = open_store(tmp_path / "box")
    try:
        fill_surveys(store, sim, 10)  # 120 records
        seqs = [r.seq for r in store.reads.outbox_after(0, 10**6)]
        middle = seqs[59]
        cutoff = store.reads.outbox_after(0, 10**6)[89].created_utc
        future = format_utc(sim.wall + 86_400)
        assert store.purge_outbox(future) == 0  # no sink: nothing is known to be delivered
        with store._write() as db:
            move_ack_cursor(db.conn, "hq", seqs[-1], "t")  # HQ has everything
            register_sink(db.conn, "twilio", "t")  # Twilio is configured, has nothing yet
        assert store.purge_outbox(future) == 0  # Twilio still needs every row
        with store._write() as db:
            move_ack_cursor(db.conn, "twilio", middle, "t")
        assert store.purge_outbox(future) == 60  # up to the slowest sink's cursor
        assert store.reads.outbox_after(0, 1)[0].seq == seqs[60]
        with store._write() as db:
            move_ack_cursor(db.conn, "twilio", seqs[-1], "t")
        assert store.purge_outbox(cutoff) == 29  # only what is older than the cutoff
        assert len(store.reads.outbox_after(0, 10**6)) == 31
        # Cursors and the backlog read as before: nothing after a cursor was touched.
        assert store.reads.acked_seq("hq") == seqs[-1] and store.reads.backlog() == 0
        fill_surveys(store, sim, 1, seed=2)  # new rows get new seqs, never reused ones
        assert store.reads.outbox_after(seqs[-1], 100)[0].seq == seqs[-1] + 1
    finally:
        store.close()


def test_a_large_purge_goes_in_small_transactions(tmp_path: Path, monkeypatch) -> None:
    from edge.store import _retention

    monkeypatch.setattr(_retention, "CHUNK", 7)
    store, sim = open_store(tmp_path / "box")
    try:
        fill_surveys(store, sim, 5)
        last = store.reads.outbox_after(0, 10**6)[-1].seq
        with store._write() as db:
            move_ack_cursor(db.conn, "hq", last, "t")
        assert store.purge_outbox(format_utc(sim.wall + 1)) == 60
        assert store.reads.outbox_after(0, 10) == []
    finally:
        store.close()
