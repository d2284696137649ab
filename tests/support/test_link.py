"""The link emulator used by the benchmark: bytes arrive intact and are counted; drops cut."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from sync.hq import HqDb, HqServer, HqSettings
from tests.support import LinkEmulator


@pytest.fixture
def hq(tmp_path: Path) -> Iterator[HqServer]:
    """The reference receiver as the far end: it answers an unsigned POST with 401."""
    db = HqDb(tmp_path / "hq.db")
    server = HqServer(("127.0.0.1", 0), db, HqSettings({"box-1": b"box-1-secret"}))
    server.start_background()
    yield server
    server.shutdown()
    server.server_close()
    db.close()


def test_shaped_link_carries_and_counts(hq):
    link = LinkEmulator(hq.server_address[:2], rate_bps=400_000, rtt_s=0.05).start()
    try:
        body = b"x" * 20_000
        response = requests.post(link.url + "/v1/batches", data=body, timeout=10)
        assert response.status_code == 401  # HQ answered: the request crossed intact
        assert link.stats.up_bytes > len(body) and link.stats.down_bytes > 0
        assert link.stats.connections == 1
    finally:
        link.close()


def test_drops_cut_connections(hq):
    link = LinkEmulator(hq.server_address[:2], rate_bps=40_000, rtt_s=0.2,
                        drop_every_s=0.3, seed=2).start()
    try:
        with pytest.raises(requests.RequestException):
            for _ in range(5):  # each takes ~6 s on this link: a drop comes first
                requests.post(link.url + "/v1/batches", data=b"y" * 30_000, timeout=30)
        assert link.stats.drops >= 1
    finally:
        link.close()
