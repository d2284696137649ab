"""The command line: init, config errors, export, status — one clear line on every error."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from pathlib import Path

import pytest

from edge.cli import main
from edge.config import load_config
from edge.demo import DemoOptions, run_demo
from edge.plugins import all_sections


def init(tmp_path: Path) -> Path:
    assert main(["init", str(tmp_path), "--box-id", "box-7"]) == 0
    return tmp_path / "edgecall.toml"


def test_init_writes_a_loadable_config_and_a_private_secrets_file(tmp_path: Path) -> None:
    config_path = init(tmp_path)
    mode = stat.S_IMODE(os.stat(tmp_path / "secrets.toml").st_mode)
    assert mode == 0o600
    config = load_config(config_path, all_sections())
    assert config.box_id == "box-7"
    assert config.data_dir == tmp_path / "data"
    assert len(bytes.fromhex(config.secrets["pseudonym_key"])) == 32
    text = config_path.read_text()
    assert "max_concurrent_calls = 4" in text and "# [simulated]" in text


def test_init_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    init(tmp_path)
    assert main(["init", str(tmp_path)]) == 2
    assert "exists; use --force" in capsys.readouterr().err


def test_unknown_keys_and_bad_values_name_key_value_and_expectation(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config_path = init(tmp_path)
    text = config_path.read_text().replace("max_concurrent_calls = 4",
                                           "max_concurrent_calls = \"many\"\nmax_calls = 3")
    config_path.write_text(text)
    assert main(["status", "--config", str(config_path)]) == 2
    err = capsys.readouterr().err
    assert "server.max_concurrent_calls: got 'many', expected an integer from 1 to 500" in err
    assert "server.max_calls: unknown key (did you mean 'max_concurrent_calls'?)" in err
    assert "Traceback" not in err


def test_toml_syntax_error_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config_path = tmp_path / "edgecall.toml"
    config_path.write_text("[box\nid = 1")
    assert main(["status", "--config", str(config_path)]) == 2
    err = capsys.readouterr().err
    assert "syntax" in err and "Traceback" not in err


def test_unwritable_data_directory_is_named(tmp_path: Path,
                                            capsys: pytest.CaptureFixture) -> None:
    config_path = init(tmp_path)
    blocker = tmp_path / "afile"
    blocker.write_text("not a directory")
    config_path.write_text(config_path.read_text().replace('data_dir = "data"',
                                                           f'data_dir = "{blocker}/data"'))
    assert main(["serve", "--config", str(config_path)]) == 2
    err = capsys.readouterr().err
    assert "is not writable" in err and "data_dir" in err


def test_serve_without_lines_says_what_to_configure(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture) -> None:
    assert main(["serve", "--config", str(init(tmp_path))]) == 2
    assert "no line is enabled" in capsys.readouterr().err


def test_missing_config_is_explained(tmp_path: Path, capsys: pytest.CaptureFixture,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EDGECALL_CONFIG", raising=False)
    assert main(["status", "--config", str(tmp_path / "none.toml")]) == 2
    assert "edgecall init" in capsys.readouterr().err


@pytest.fixture(scope="module")
def demo_box(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config whose data directory holds the calls of a short demo run."""
    directory = tmp_path_factory.mktemp("box")
    main(["init", str(directory)])
    done = run_demo(DemoOptions(directory=directory, calls=8, lines=4, speed=50, seed=3),
                    out=io.StringIO())
    # 8 callers, and one call more per caller who rang off and was called back.
    (directory / "calls-made").write_text(str(sum(done.values())))
    return directory / "edgecall.toml"


def _calls_made(demo_box: Path) -> int:
    return int((demo_box.parent / "calls-made").read_text())


def test_export_csv_is_wide_one_row_per_call(demo_box: Path, tmp_path: Path) -> None:
    out = tmp_path / "calls.csv"
    assert main(["export", "--config", str(demo_box), "--format", "csv", "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == _calls_made(demo_box) >= 8
    assert {"call_id", "disposition", "clock_quality", "consent", "household", "need"} <= set(
        rows[0])
    assert all(r["caller"].startswith("p:") for r in rows)
    complete = [r for r in rows if r["disposition"] == "complete"]
    assert complete and all(r["consent"] == "yes" for r in complete)


def test_export_json_nests_answers(demo_box: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["export", "--config", str(demo_box), "--format", "json"]) == 0
    calls = json.loads(capsys.readouterr().out)
    assert len(calls) == _calls_made(demo_box) and all("answers" in c for c in calls)
    answered = [c for c in calls if c["answers"]]
    assert answered and "value" in next(iter(answered[0]["answers"].values()))


def test_status_counts_calls_and_backlog(demo_box: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["status", "--config", str(demo_box), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["today"]["calls"] == _calls_made(demo_box)
    assert sum(status["today"]["dispositions"].values()) == _calls_made(demo_box)
    assert status["outbox_backlog"] > 8
    assert main(["status", "--config", str(demo_box)]) == 0
    assert f"today: {_calls_made(demo_box)} calls" in capsys.readouterr().out


def test_export_without_a_database_is_explained(tmp_path: Path,
                                                capsys: pytest.CaptureFixture) -> None:
    assert main(["export", "--config", str(init(tmp_path))]) == 2
    assert "no database" in capsys.readouterr().err
