"""The demo box: simulated callers through the real server; the interactive caller."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from edge.cli import main
from edge.demo import DemoOptions, run_demo, run_interactive
from edge.store import DISPOSITIONS


def test_demo_runs_its_calls_and_exports_them(tmp_path: Path) -> None:
    out = io.StringIO()
    done = run_demo(DemoOptions(directory=tmp_path, calls=16, lines=3, speed=60, seed=11), out)
    text = out.getvalue()
    # Callers who rang off were called back: each is one more call, placed by the box.
    called_back = text.count("(the box called back)")
    assert called_back >= 1 and f"called back: {called_back} callers (" in text
    total = 16 + called_back
    assert sum(done.values()) == total
    assert set(done) <= set(DISPOSITIONS)
    assert done.get("complete", 0) >= 5
    assert f"Summary of this run ({total} calls" in text and "Exports:" in text
    rows = list(csv.DictReader((tmp_path / "exports" / "calls.csv").open(encoding="utf-8")))
    assert len(rows) == total
    assert {r["disposition"] for r in rows} == set(done)
    assert (tmp_path / "exports" / "calls.json").stat().st_size > 100


def test_demo_command_line(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["demo", "--dir", str(tmp_path), "--calls", "4", "--speed", "80"]) == 0
    out = capsys.readouterr().out
    assert "Database:" in out and str(tmp_path) in out
    assert main(["demo", "--dir", str(tmp_path), "--calls", "0"]) == 2


def test_interactive_caller_types_keys(tmp_path: Path) -> None:
    keys = io.StringIO("1\n1\n1#\n3\n2\n")
    out = io.StringIO()
    disposition = run_interactive(DemoOptions(directory=tmp_path), stdin=keys, out=out,
                                  speak=False)
    assert disposition == "complete"
    text = out.getvalue()
    assert "box (en): For English, press 1." in text
    assert "need" in text and "-> shelter" in text


def test_demo_through_the_simulated_modems_and_the_real_driver(tmp_path: Path) -> None:
    out = io.StringIO()
    done = run_demo(DemoOptions(directory=tmp_path, calls=6, lines=2, speed=25, seed=3,
                                via="modem"), out)
    text = out.getvalue()
    # Seed 3 has a caller who rings off: the box calls them back through a modem (ATD), as
    # it calls back those who asked for it in the survey.
    called_back = text.count("(the box called back)")
    assert called_back >= 1 and f"called back: {called_back} callers (1 rang off" in text
    assert sum(done.values()) == 6 + called_back
    assert done.get("complete", 0) >= 3
    assert "through simulated modems and the real modem driver" in text
    lines = {row["line"] for row in csv.DictReader(
        (tmp_path / "exports" / "calls.csv").open(encoding="utf-8"))}
    assert lines <= {"modem0", "modem1"} and lines


def test_a_seeded_demo_gives_the_same_dispositions_at_any_speed(tmp_path: Path) -> None:
    # At 400x a millisecond of this machine's scheduling is 0.4 s of a caller's time; results
    # must not hang on it (a caller who finds every line busy redials until one is free).
    results = [run_demo(DemoOptions(directory=tmp_path / str(speed), calls=40, lines=2,
                                    speed=speed, seed=3), io.StringIO())
               for speed in (40, 400)]
    assert results[0] == results[1]
    assert sum(results[0].values()) >= 40  # and one call more per caller called back
