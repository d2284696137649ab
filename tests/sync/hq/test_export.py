"""``edgecall hq export``: the box's own wide CSV and JSON (edge/export.py), per survey, with
--since and --box; callbacks and campaign calls; spreadsheet formulas neutralised."""

from __future__ import annotations

import csv
import io
import json

import pytest

from edge.cli import main
from edge.export import export_csv, export_json, question_order
from sync._hq import HqSink
from sync._runner import drain
from sync.hq._export import export_calls, export_table
from tests.support import fill_surveys, open_store

from ..conftest import SECRET
from ..helpers import ledger_for


def _drain(store, hq):
    sink = HqSink(hq.url + "/v1/batches", store.box_id, SECRET)
    assert drain(ledger_for(store), sink, wait=lambda s: False, max_wait_s=0).done


def test_hq_csv_and_json_are_the_boxs_own_export(filled, hq, tmp_path):
    store, _ = filled
    _drain(store, hq)
    out = tmp_path / "calls.csv"
    assert export_calls(hq.storage, "csv", out) == {"demo": 40}
    assert out.read_text() == export_csv(store, question_order(store))
    json_out = tmp_path / "calls.json"
    export_calls(hq.storage, "json", json_out)
    assert json.loads(json_out.read_text()) == json.loads(export_json(store))


def test_since_box_and_one_file_per_survey(tmp_path, hq):
    from edge.records import AnswerInput

    hq.storage.add_box("box-2", SECRET.decode(), "2000-01-01T00:00:00.000Z")
    one, sim = open_store(tmp_path / "box-1", box_id="box-1", fast=True)
    fill_surveys(one, sim, 6)  # survey "demo"
    two, _ = open_store(tmp_path / "box-2", box_id="box-2", sim=sim, fast=True)
    for n in range(3):
        call = two.begin_call("sip", f"p:{n:020d}", False, "needs", "1")
        two.record_answer(call, AnswerInput("water", raw="1", value="yes", attempts=1,
                                            invalid=0, timeouts=0),
                          language="en", survey_version="1")
        two.end_call(call, "complete")
    _drain(one, hq)
    _drain(two, hq)
    with pytest.raises(ValueError, match="2 surveys"):
        export_calls(hq.storage, "csv", tmp_path / "one.csv")
    folder = tmp_path / "by-survey"
    folder.mkdir()
    assert export_calls(hq.storage, "csv", folder) == {"demo": 6, "needs": 3}
    needs = list(csv.DictReader((folder / "needs.csv").open()))
    assert len(needs) == 3 and needs[0]["water"] == "yes" and "household" not in needs[0]
    assert export_calls(hq.storage, "csv", tmp_path / "b2.csv", box="box-2") == {"needs": 3}
    started = sorted(r["body"]["started_utc"] for r in hq.storage.records("call"))
    since = started[4]
    later = export_calls(hq.storage, "json", tmp_path / "later.json", since=since)
    assert sum(later.values()) == len([s for s in started if s >= since]) == 5
    assert main(["hq", "export", "--db", hq.storage.url, "--survey", "demo", "--since",
                 since[:10], "-o", str(tmp_path / "cli.csv")]) == 0
    one.close()
    two.close()


def test_formulas_in_values_are_neutralised_at_hq_and_on_the_box(store, hq, tmp_path):
    from edge.records import AnswerInput

    call = store.begin_call("sip", "p:0123456789abcdef0123", False, "demo", "3")
    store.record_answer(call, AnswerInput("comment", raw="1", value='=HYPERLINK("http://x")',
                                          attempts=1, invalid=0, timeouts=0),
                        language="en", survey_version="3")
    store.record_answer(call, AnswerInput("amount", raw="-3", value="-3", attempts=1,
                                          invalid=0, timeouts=0),
                        language="en", survey_version="3")
    store.end_call(call, "complete")
    box_rows = list(csv.DictReader(io.StringIO(export_csv(store))))
    assert box_rows[0]["comment"] == '\'=HYPERLINK("http://x")'
    assert box_rows[0]["amount"] == "-3"  # a number stays a number
    _drain(store, hq)
    out = tmp_path / "calls.csv"
    export_calls(hq.storage, "csv", out)
    (row,) = csv.DictReader(out.open())
    assert row["comment"] == '\'=HYPERLINK("http://x")' and row["amount"] == "-3"
    assert main(["hq", "export", "--db", hq.storage.url, "--table", "records", "--kind",
                 "answer", "-o", str(out)]) == 0
    assert "'=HYPERLINK" in out.read_text() and ',=HYPERLINK' not in out.read_text()


def test_jobs_and_attempts_tables(store, hq, tmp_path):
    call = store.begin_call("sip", "p:0123456789abcdef0123", False, "demo", "3")
    store.end_call(call, "partial")
    job = store.request_callback(call, "+255712345678")
    assert job is not None
    _drain(store, hq)
    out = tmp_path / "jobs.csv"
    assert export_table(hq.storage, "jobs", "csv", out) == 1
    (row,) = csv.DictReader(out.open())
    assert row["id"] == job and row["kind"] == "requested" and row["box"] == "box-1"
    assert "+255712345678" not in out.read_text()
    assert export_table(hq.storage, "attempts", "json", tmp_path / "a.json") == 0
