"""edgecall doctor against real files: each broken state is named with a fix."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from edge.cli import main
from edge.doctor import judge


def box(tmp_path: Path, simulated: str = "") -> Path:
    assert main(["init", str(tmp_path)]) == 0
    config = tmp_path / "edgecall.toml"
    (tmp_path / "calls.json").write_text(simulated or "[]")
    config.write_text(config.read_text() + '\n[simulated]\nenabled = true\n'
                      'calls_file = "calls.json"\nspeed = 10.0\n')
    return config


def doctor(config: Path, capsys: pytest.CaptureFixture, *extra: str) -> tuple[int, dict]:
    code = main(["doctor", "--config", str(config), "--json", *extra])
    out = capsys.readouterr().out
    report = json.loads(out[out.index("{\n"):])  # after what 'init' printed
    assert report["exit_code"] == code
    return code, {c["name"]: c for c in report["checks"]}


def test_a_fresh_box_passes_but_for_warnings(tmp_path: Path,
                                             capsys: pytest.CaptureFixture) -> None:
    config = box(tmp_path)
    main(["demo", "--dir", str(tmp_path / "unused"), "--calls", "1", "--speed", "80"])
    capsys.readouterr()
    code, checks = doctor(config, capsys)
    assert checks["config"]["status"] == "ok" and checks["lines"]["status"] == "ok"
    assert checks["secrets"]["status"] == "ok" and checks["prompts"]["status"] == "ok"
    assert checks["database"]["status"] == "warn"  # not created before the first serve
    assert code in (0, 3) and all(c["status"] != "fail" for c in checks.values())


def test_every_failure_says_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = box(tmp_path)
    os.chmod(tmp_path / "secrets.toml", 0o644)
    (tmp_path / "bad.json").write_text('{"id": "x"}')
    text = config.read_text().replace('file = "builtin:demo"', 'file = "bad.json"')
    config.write_text(text)
    code, checks = doctor(config, capsys)
    assert code == 1
    assert checks["secrets"]["status"] == "warn" and "chmod 600" in checks["secrets"]["fix"]
    assert checks["survey"]["status"] == "fail"
    assert "edgecall survey check" in checks["survey"]["fix"]


def test_broken_config_stops_early_with_the_problems(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    config = box(tmp_path)
    config.write_text(config.read_text().replace("max_concurrent_calls = 4",
                                                 "max_concurrent_calls = 0"))
    code, checks = doctor(config, capsys)
    assert code == 1 and list(checks) == ["config"]
    assert "max_concurrent_calls" in checks["config"]["message"]


def test_damaged_database_fails_quick_check(tmp_path: Path,
                                            capsys: pytest.CaptureFixture) -> None:
    from edge.records import AnswerInput
    from edge.store import Store

    config = box(tmp_path)
    store = Store.open(tmp_path / "data")
    for _ in range(200):
        call = store.begin_call("sim", None, True, "s", "1")
        store.record_answer(call, AnswerInput("q", "1", "x" * 200, 1, 0, 0), "en", "1")
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    database = tmp_path / "data" / "edgecall.db"
    data = bytearray(database.read_bytes())
    data[8192:16384] = b"\x00garbage" * 1024  # overwrite pages in the middle
    database.write_bytes(bytes(data))
    code, checks = doctor(config, capsys)
    assert code == 1 and checks["database"]["status"] == "fail"


def test_recordings_hq_lacks_near_the_cap_are_a_warning(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture) -> None:
    from edge.records import AnswerInput, AudioFile
    from edge.store import Store

    config = box(tmp_path)
    config.write_text(config.read_text().replace("recordings_max_mb = 0",
                                                 "recordings_max_mb = 2"))
    store = Store.open(tmp_path / "data")
    call = store.begin_call("sim", None, True, "s", "1")
    for n in range(2):
        reference = f"{call}/q{n}.wav"
        store.record_answer(call, AnswerInput(f"q{n}", "#", reference, 1, 0, 0), "en", "1",
                            audio=AudioFile(reference, 900_000, "ab" * 32, 56.0, "wav"))
    store.close()
    _code, checks = doctor(config, capsys)
    recordings = checks["recordings"]
    assert recordings["status"] == "warn" and "2 MB not yet at HQ" in recordings["message"]
    assert "cap 2 MB" in recordings["message"] and "sync status" in recordings["fix"]
    store = Store.open(tmp_path / "data")
    store.db.execute("UPDATE audio SET held_utc = 'x', removed_utc = 'y' WHERE answer_id"
                     " LIKE '%q0'")
    store.db.conn.commit()
    store.close()
    _code, checks = doctor(config, capsys)
    assert checks["recordings"]["status"] == "ok"
    assert "1 held by HQ, 1 removed here" in checks["recordings"]["message"]


def test_unwritable_data_directory(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = box(tmp_path)
    (tmp_path / "blocker").write_text("")
    config.write_text(config.read_text().replace('data_dir = "data"',
                                                 f'data_dir = "{tmp_path}/blocker/data"'))
    code, checks = doctor(config, capsys)
    assert code == 1 and checks["data directory"]["status"] == "fail"


def test_human_output_marks_and_fixes(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = box(tmp_path)
    main(["doctor", "--config", str(config)])
    out = capsys.readouterr().out
    assert "[WARN] database" in out and "->" in out and "checks:" in out


def test_dtmf_test_with_every_key(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    calls = json.dumps([{"at_s": 1, "number": "+255700000001", "key_gap_s": 0.3,
                         "responses": {"doctor.dtmf": ["1234567890*#"]}}])
    config = box(tmp_path, calls)
    _code, checks = doctor(config, capsys, "--dtmf-test", "--wait", "20")
    assert checks["dtmf test"]["status"] == "ok"
    assert checks["dtmf test"]["facts"]["received"] == "1234567890*#"


def test_dtmf_test_reports_missing_keys(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    calls = json.dumps([{"at_s": 1, "number": "+255700000001",
                         "responses": {"doctor.dtmf": ["12345"]}}])
    config = box(tmp_path, calls)
    code, checks = doctor(config, capsys, "--dtmf-test", "--wait", "20", "--key-time", "3")
    assert code == 1 and checks["dtmf test"]["status"] == "fail"


def test_no_line_names_every_kind_of_line(tmp_path: Path,
                                          capsys: pytest.CaptureFixture) -> None:
    assert main(["init", str(tmp_path)]) == 0
    code, checks = doctor(tmp_path / "edgecall.toml", capsys)
    assert code == 1 and checks["lines"]["status"] == "fail"
    fix = checks["lines"]["fix"]
    assert "[sip]" in fix and "[modem]" in fix and "[simulated]" in fix
    assert "edgecall init --simulated" in fix


def test_judge() -> None:
    assert judge("1234567890*#").status == "ok"
    assert judge("11234567890*#").status == "warn"
    assert judge("123").facts["missing"] == "4567890*#"
    assert judge("").status == "fail"
