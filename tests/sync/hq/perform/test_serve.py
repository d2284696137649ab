"""``[requests] perform_in_serve``: ``edgecall hq serve`` (gunicorn) runs one performer
process beside its workers, and stops it with itself."""

from __future__ import annotations

import os
import time

import pytest

from sync.hq import open_storage
from sync.hq.storage.request_queue import RequestQueue

from ..hostile import SECRETS, STAMP, ServeProcess
from .far_side import FarSide
from .helpers import posts, store


@pytest.fixture
def far():
    server = FarSide()
    yield server
    server.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose (its parent has not reaped it yet).
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(")")[-1].split()[0] != "Z"


def _hq_with_queued(tmp_path, far, requests: int, perform_in_serve: bool):
    """An HQ database holding ``requests`` queued posts to ``far``, and its hq.toml."""
    db = tmp_path / "hq.db"
    storage = open_storage(db)
    storage.add_box("box-1", SECRETS["box-1"], STAMP)
    store(storage, posts(far.url, requests))
    storage.close()
    config = tmp_path / "hq.toml"
    config.write_text(f'[hq]\ndatabase = "{db}"\nworkers = 1\n[requests]\n'
                      + ("perform_in_serve = true\n" if perform_in_serve else "")
                      + f'allowed_hosts = ["{far.host}"]\npoll_s = 1.0\n')
    return db, config


def test_serve_performs_queued_requests_when_asked_and_stops_its_performer(tmp_path, far):
    db, config = _hq_with_queued(tmp_path, far, 2, perform_in_serve=True)
    serve = ServeProcess(config)
    try:
        deadline = time.monotonic() + 60
        while len(far.seen) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sorted(far.paths()) == ["/r/1", "/r/2"]
        children = serve.pids()[1:]  # the gunicorn workers and the performer
        assert len(children) == 2
    finally:
        log = serve.stop()
    assert not [pid for pid in children if _alive(pid)], log
    check = open_storage(db)
    try:
        deadline = time.monotonic() + 10
        while RequestQueue(check).counts() != {"done": 2} and time.monotonic() < deadline:
            time.sleep(0.1)
        assert RequestQueue(check).counts() == {"done": 2}
    finally:
        check.close()


def test_serve_performs_nothing_by_default(tmp_path, far):
    _db, config = _hq_with_queued(tmp_path, far, 1, perform_in_serve=False)
    serve = ServeProcess(config)
    try:
        assert len(serve.pids()) == 2  # master and its one worker: no performer
        time.sleep(2)
        assert far.seen == []
    finally:
        serve.stop()
