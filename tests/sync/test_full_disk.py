"""Sync on a full disk: one line in words per run, never a traceback; it picks up where it
stopped once there is room (exactly once throughout). On a real small filesystem (tmpfs)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.config import load_config
from edge.plugins import ServiceContext, all_sections
from sync import service as sync_service
from tests.support import fill_disk, fill_surveys, open_store, small_disk

from .helpers import assert_exactly_once
from .test_cli import write_config


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with small_disk(tmp_path / "disk", "4m") as path:
        yield path


def _sync_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("sync")
            and r.levelno >= logging.WARNING]


@pytest.mark.parametrize("full_at_start", [False, True])
def test_sync_on_a_full_disk_says_so_in_one_line_per_run_then_resumes(
        disk, hq, tmp_path, caplog, full_at_start):
    store, sim = open_store(disk / "box")
    fill_surveys(store, sim, 30)
    config = load_config(write_config(tmp_path, hq.url, "[sync]\ninterval_s = 600\n"),
                         all_sections())
    filler = fill_disk(disk) if full_at_start else None
    service = sync_service.start(ServiceContext(config, store, store.clock))
    service.scheduler.pause()  # runs are driven below
    service.in_run_wait_s = 0
    try:
        if filler is None:
            filler = fill_disk(disk)  # the disk fills while serve runs
        for _run in (1, 2):  # every run: one line
            caplog.clear()
            with caplog.at_level(logging.INFO):
                service.run_once()
            lines = _sync_lines(caplog)
            assert len(lines) == 1, [r.getMessage() for r in lines]
            assert not lines[0].exc_info and "disk is full" in lines[0].getMessage()
            assert "retrying in" in lines[0].getMessage()
        filler.unlink()
        service.run_once()
        assert store.reads.backlog() == 0
        assert_exactly_once(store, hq.storage)
    finally:
        service.stop()
        store.close()
