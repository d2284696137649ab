"""The demo leaves a working box config and a local HQ's: status, export, sync and
'hq serve' work on demo data, then 'hq export' writes the calls (the README's round trip)."""

from __future__ import annotations

import csv
import io
import tomllib

from edge.cli import main
from edge.demo import DemoOptions, run_demo

from .hostile import ServeProcess


def test_demo_then_local_hq_then_export(tmp_path, capsys):
    folder = tmp_path / "edgecall-demo"
    run_demo(DemoOptions(folder, calls=4, lines=2, speed=400.0, via="simulated"),
             out=io.StringIO())
    config = folder / "edgecall.toml"
    written = tomllib.loads(config.read_text())
    assert written["box"]["id"] == "demo" and written["hq"]["allow_http"] is True
    assert (folder / "secrets.toml").stat().st_mode & 0o077 == 0
    assert main(["status", "-c", str(config)]) == 0
    assert "outbox backlog" in capsys.readouterr().out
    assert main(["export", "-c", str(config), "--format", "csv"]) == 0
    box_csv = capsys.readouterr().out
    server = ServeProcess(folder / "hq.toml", "--server", "simple")
    try:
        # The demo's [hq] names port 8750; this test's HQ took a free port.
        config.write_text(config.read_text().replace("127.0.0.1:8750",
                                                     f"127.0.0.1:{server.port}"))
        assert main(["sync", "--once", "--no-pull", "-c", str(config)]) == 0
    finally:
        server.stop()
    out = folder / "hq-calls.csv"
    assert main(["hq", "export", "-c", str(folder / "hq.toml"), "-o", str(out)]) == 0
    # HQ's export is the box's: the same rows, columns and values. The box also has a column
    # for each question of its survey file nobody answered yet; HQ knows those only when
    # the survey is published to it ('hq publish'), else it has the answered questions.
    ours = list(csv.DictReader(io.StringIO(box_csv)))
    theirs = list(csv.DictReader(out.open()))
    assert len(theirs) == len(ours) >= 4
    for mine, hq_row in zip(ours, theirs, strict=True):
        assert set(hq_row) <= set(mine)
        assert {k: v for k, v in mine.items() if k in hq_row} == hq_row
        assert all(mine[k] == "" for k in set(mine) - set(hq_row))
    # A second demo run keeps the keys (the box stays enrolled).
    secret = (folder / "secrets.toml").read_text()
    run_demo(DemoOptions(folder, calls=1, lines=1, speed=400.0, via="simulated"),
             out=io.StringIO())
    assert (folder / "secrets.toml").read_text() == secret
