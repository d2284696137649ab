"""Campaigns from the command line: numbers validated, duplicates and opted-out callers left
out, pause/resume/cancel; and a campaign placed by the dispatcher with its own survey."""

from __future__ import annotations

import time
from pathlib import Path

from edge.cli import main
from edge.config import load_config
from edge.lines.simulated import CallerScript, SimulatedLine, SimulatedPhone
from edge.plugins import all_sections
from edge.privacy import Pseudonymiser
from edge.server import Box
from edge.store import Store

from ..conftest import COMPLETE

CSV = """name,number,district
A,0712 345 678,north
B,+255712345678,north
C,+255 700 000 002,south
D,not a number,south
E,,west
F,0700000003,east
G,0700000004,east
"""


def _setup(tmp_path: Path) -> Path:
    assert main(["init", str(tmp_path)]) == 0
    config = tmp_path / "edgecall.toml"
    config.write_text(config.read_text() + '\n[outbound]\nenabled = true\ncountry_code = "255"\n'
                      'calling_hours = "00:00-23:59"\ncheck_interval_s = 1.0\n')
    (tmp_path / "numbers.csv").write_text(CSV)
    return config


def test_import_validates_dedups_and_skips_opted_out(tmp_path: Path, capsys) -> None:
    config = _setup(tmp_path)
    loaded = load_config(config, all_sections())
    store = Store.open(loaded.data_dir, box_id=loaded.box_id)
    pseudo = Pseudonymiser(bytes.fromhex(loaded.secrets["pseudonym_key"]))
    store.outbound.opt_out(pseudo.pseudonym("+255700000004"), None)
    store.close()
    assert main(["campaign", "--config", str(config), "import", str(tmp_path / "numbers.csv"),
                 "--name", "north"]) == 0
    out = capsys.readouterr().out
    assert "3 numbers queued, 1 duplicate and 1 opted out left out, 2 not valid" in out
    assert "row 6: empty" in out
    assert "row 5: the number has characters other than digits" in out
    assert "+255" not in out  # the operator's numbers are not echoed
    assert main(["campaign", "--config", str(config), "import", str(tmp_path / "numbers.csv"),
                 "--name", "north"]) == 2  # names are unique
    capsys.readouterr()
    assert main(["campaign", "--config", str(config), "pause", "north"]) == 0
    assert "3 calls changed" in capsys.readouterr().out
    assert main(["campaign", "--config", str(config), "list"]) == 0
    assert "north: paused, 0 of 3 reached, 3 waiting" in capsys.readouterr().out
    assert main(["campaign", "--config", str(config), "resume", "north"]) == 0
    assert main(["campaign", "--config", str(config), "cancel", "north"]) == 0
    capsys.readouterr()
    assert main(["campaign", "--config", str(config), "status", "north"]) == 0
    assert "0 waiting, 0 not reached, 3 cancelled" in capsys.readouterr().out
    store = Store.open(loaded.data_dir, box_id=loaded.box_id)
    assert store.query("SELECT count(*) AS n FROM outbound WHERE number IS NOT NULL") == [
        {"n": 0}]  # cancelled jobs keep no raw number
    store.close()
    assert main(["campaign", "--config", str(config), "status", "nope"]) == 2


def test_a_campaign_is_placed_with_its_survey(tmp_path: Path) -> None:
    config_path = _setup(tmp_path)
    assert main(["campaign", "--config", str(config_path), "import",
                 str(tmp_path / "numbers.csv"), "--name", "c1", "--survey", "builtin:demo"]) == 0
    config = load_config(config_path, all_sections())
    script = CallerScript({k: list(v) for k, v in COMPLETE.items()}, key_delay_s=0.2)
    line = SimulatedLine("sim", speed=50, phones=lambda _n: SimulatedPhone("answers", 1, script))
    box = Box(config, lines=[line], timer_scale=1 / 50, services=False).start()
    try:
        deadline = time.monotonic() + 60
        while box.store.reads.campaigns()[0]["jobs"].get("done", 0) < 4:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        placed = box.store.query("SELECT disposition FROM calls WHERE attempt IS NOT NULL")
        assert [r["disposition"] for r in placed] == ["complete"] * 4
    finally:
        box.stop(grace_s=5)


def test_status_shows_callbacks_and_campaigns(tmp_path: Path, capsys) -> None:
    config = _setup(tmp_path)
    assert main(["campaign", "--config", str(config), "import", str(tmp_path / "numbers.csv"),
                 "--name", "north"]) == 0
    loaded = load_config(config, all_sections())
    store = Store.open(loaded.data_dir, box_id=loaded.box_id)
    store.outbound.enqueue("missed", "+255799999999", "p:m")
    store.close()
    capsys.readouterr()
    assert main(["status", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "callbacks waiting: 1 callback, the oldest waiting" in out
    assert "calls placed today: 0 attempts, 0 of 120 minutes" in out
    assert "campaign north: active, 0 of 4 reached, 4 waiting" in out


def test_doctor_reports_callbacks_and_a_long_wait(tmp_path: Path) -> None:
    from edge.doctor._outbound import check_outbound
    from edge.doctor.runner import run_checks

    config = _setup(tmp_path)
    results = {r.name: r for r in run_checks(config)}
    assert results["outbound"].status == "warn"  # on, but no enabled line dials
    assert "no enabled line can place calls" in results["outbound"].message
    config.write_text(config.read_text() + '\n[simulated]\nenabled = true\n')
    loaded = load_config(config, all_sections())
    store = Store.open(loaded.data_dir, box_id=loaded.box_id)
    store.outbound.enqueue("missed", "+255799999999", "p:m")
    store.close()
    results = [r for r in run_checks(config) if r.name == "outbound"]
    assert [r.status for r in results] == ["ok"]
    assert results[0].message.startswith("1 callback waiting")
    later = list(check_outbound(loaded, now=time.time() + 3 * 3600))
    assert later[0].status == "warn" and "has waited 3.0 h" in later[0].message
