from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.store import Store
from sync.hq import HqDb, HqServer, HqSettings
from tests.support import SimClock, fill_surveys, open_store

SECRET = b"box-1-secret-for-tests"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    st, _sim = open_store(tmp_path / "box")
    yield st
    st.close()


@pytest.fixture
def filled(tmp_path: Path) -> Iterator[tuple[Store, SimClock]]:
    st, sim = open_store(tmp_path / "box", fast=True)  # the fill's durability is not under test
    fill_surveys(st, sim, 40)
    yield st, sim
    st.close()


@pytest.fixture
def hq(tmp_path: Path) -> Iterator[HqServer]:
    db = HqDb(tmp_path / "hq" / "hq.db")
    server = HqServer(("127.0.0.1", 0), db, HqSettings({"box-1": SECRET}))
    server.start_background()
    yield server
    server.shutdown()
    server.server_close()
    db.close()
