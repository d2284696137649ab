"""The link emulator used by the benchmark: bytes arrive intact and are counted; drops cut."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from sync.hq import DevServer, HqSettings, make_app, open_storage
from tests.support import LinkEmulator


@pytest.fixture
def hq(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """The reference receiver as the far end: it answers an unsigned POST with 401."""
    storage = open_storage(tmp_path / "hq.db")
    storage.add_box("box-1", "box-1-secret-xxxxx", "2000-01-01T00:00:00.000Z")
    server = DevServer(make_app(storage, HqSettings())).start()
    yield server.host, server.port
    server.stop()
    storage.close()


def test_shaped_link_carries_and_counts(hq):
    link = LinkEmulator(hq, rate_bps=400_000, rtt_s=0.05).start()
    try:
        body = b"x" * 20_000
        response = requests.post(link.url + "/v1/batches", data=body, timeout=10,
                                 headers={"X-Edgecall-Box": "box-1"})
        assert response.status_code in (400, 401)  # HQ answered: the request crossed
        assert link.stats.up_bytes > len(body) and link.stats.down_bytes > 0
        assert link.stats.connections == 1
    finally:
        link.close()


def test_drops_cut_connections(hq):
    link = LinkEmulator(hq, rate_bps=40_000, rtt_s=0.2,
                        drop_every_s=0.3, seed=2).start()
    try:
        with pytest.raises(requests.RequestException):
            for _ in range(5):  # each takes ~6 s on this link: a drop comes first
                requests.post(link.url + "/v1/batches", data=b"y" * 30_000, timeout=30)
        assert link.stats.drops >= 1
    finally:
        link.close()
