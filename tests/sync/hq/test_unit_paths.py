"""Paths the HQ unit can write: ``hq init /etc/edgecall`` puts the database and recordings in
the unit's state directory, and ``hq serve`` refuses a path it cannot write, naming the key
(on a real read-only mount, as ProtectSystem=strict makes /etc for the unit)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from edge.cli import main
from sync.hq._unit_paths import UNIT_STATE_DIR, init_defaults, unwritable
from tests.support import read_only, small_disk


def test_init_defaults_beside_the_file_except_in_the_units_directory(tmp_path: Path) -> None:
    assert init_defaults(tmp_path) == ("hq.db", "audio")
    assert init_defaults(Path("/etc/edgecall")) == ("/var/lib/edgecall-hq/hq.db",
                                                    "/var/lib/edgecall-hq/audio")
    assert init_defaults(Path("/etc/edgecall/../edgecall/")) == init_defaults(
        Path("/etc/edgecall"))


def test_init_writes_the_defaults_it_chose(tmp_path: Path) -> None:
    assert main(["hq", "init", str(tmp_path)]) == 0
    written = (tmp_path / "hq.toml").read_text()
    assert 'database = "hq.db"' in written and 'audio_dir = "audio"' in written
    assert main(["hq", "init", str(tmp_path), "--force", "--database", "x.db"]) == 0
    assert 'database = "x.db"' in (tmp_path / "hq.toml").read_text()


def test_a_path_that_cannot_be_written_is_named_with_what_to_set(tmp_path: Path) -> None:
    with small_disk(tmp_path / "etc", "1m") as etc:
        (etc / "made").mkdir()
        assert unwritable("database", etc / "hq.db") is None
        (etc / "hq.db").write_bytes(b"")  # a database already there
        assert unwritable("database", etc / "hq.db") is None
        with read_only(etc):
            problem = unwritable("database", etc / "hq.db")
            assert problem is not None and str(etc) in problem
            assert f'database = "{UNIT_STATE_DIR}/hq.db"' in problem
            assert unwritable("audio_dir", etc / "made" / "audio" / "deeper") is not None
        assert unwritable("audio_dir", etc / "made" / "audio" / "deeper") is None
    assert unwritable("database", tmp_path / "new" / "dir" / "hq.db") is None


@pytest.mark.parametrize("key", ["database", "audio_dir"])
def test_serve_refuses_a_path_it_cannot_write(tmp_path: Path, key: str,
                                              capsys: pytest.CaptureFixture) -> None:
    with small_disk(tmp_path / "etc", "1m") as etc:
        assert main(["hq", "init", str(etc)]) == 0
        config = etc / "hq.toml"
        if key == "audio_dir":  # the database elsewhere, writable: only the audio is wrong
            text = config.read_text().replace('database = "hq.db"',
                                              f'database = "{tmp_path / "hq.db"}"')
            config.write_text(text)
        assert tomllib.loads(config.read_text())["hq"]
        capsys.readouterr()
        with read_only(etc):
            code = main(["hq", "serve", "--config", str(config)])
        err = capsys.readouterr().err
        assert code != 0 and f"[hq] {key}: {etc}" in err, err
        assert "/var/lib/edgecall-hq" in err
