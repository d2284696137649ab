from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from edge.store import Store
from sync.hq import DevServer, HqSettings, Storage, make_app, open_storage
from tests.support import SimClock, fill_surveys, open_store
from tests.support._postgres import HINT, PostgresCluster, find_bin

SECRET = b"box-1-secret-for-tests"
BACKENDS = ["sqlite", "postgresql"]


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
def opusenc() -> str:
    """The link copies' encoder (Debian: opus-tools): missing under CI fails, never skips."""
    found = shutil.which("opusenc")
    if found is None:
        why = "opusenc is not installed (apt-get install opus-tools)"
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    return found


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """One throwaway cluster per test session; each test gets a schema of its own."""
    if find_bin() is None:
        if os.environ.get("CI") == "true":
            pytest.fail(HINT)  # CI installs it: missing there is a failure, never a skip
        pytest.skip(HINT)
    cluster = PostgresCluster()
    yield cluster
    cluster.stop()


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where an HQ test's storage lives: an SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return str(tmp_path / "hq" / "hq.db")
    return request.getfixturevalue("pg_cluster").url()


@pytest.fixture
def storage(database: str) -> Iterator[Storage]:
    st = open_storage(database)
    st.add_box("box-1", SECRET.decode(), "2000-01-01T00:00:00.000Z")
    yield st
    st.close()


@dataclass
class Hq:
    """The receiver on 127.0.0.1 (in-process server) with its storage and settings."""

    server: DevServer
    storage: Storage
    settings: HqSettings

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def address(self) -> tuple[str, int]:
        return self.server.host, self.server.port


@pytest.fixture
def hq(storage: Storage) -> Iterator[Hq]:
    settings = HqSettings()
    server = DevServer(make_app(storage, settings)).start()
    yield Hq(server, storage, settings)
    server.stop()
