"""'edgecall hq import-twilio': the Map items boxes wrote, stored exactly once at HQ; items
deleted only once stored; items of unknown boxes or with another box's records refused."""

from __future__ import annotations

import base64
import json

import pytest

from edge.cli import main
from sync._runner import drain
from sync._twilio import TwilioSink
from sync.hq._twilio_import import TwilioImportError, import_twilio
from tests.support import TwilioSyncStandIn

from ..helpers import assert_exactly_once, ledger_for
from .hostile import batch_bytes, call_group

IS, SK, KEY = "IS" + "0" * 32, "SK" + "1" * 32, "twilio-secret"
MAPS = ["m0", "m1", "m2"]


@pytest.fixture
def twilio():
    server = TwilioSyncStandIn(IS, SK, KEY, MAPS, writes_per_window=1000)
    yield server
    server.close()


def _fill_maps(store, twilio):
    sink = TwilioSink(twilio.url, IS, SK, KEY, MAPS, writes_per_s=20)
    ledger = ledger_for(store, sink="twilio", max_records=25, max_bytes=11 * 1024)
    assert drain(ledger, sink, wait=lambda s: False, max_wait_s=0).done


def _import(storage, twilio, delete=False):
    return import_twilio(storage, twilio.url, IS, SK, KEY, MAPS, delete=delete)


def test_import_stores_every_record_once_and_again_adds_nothing(filled, storage, twilio):
    store, _ = filled
    _fill_maps(store, twilio)
    items = sum(len(m) for m in twilio.items.values())
    assert items > 10  # (more than one page: test_paging)
    report = _import(storage, twilio)
    assert (report.items, report.stored, report.refused) == (items, items, 0)
    assert_exactly_once(store, storage)
    again = _import(storage, twilio)
    assert (again.stored, again.duplicates, again.new_records) == (0, items, 0)
    assert_exactly_once(store, storage)


def test_delete_removes_only_what_was_stored(filled, storage, twilio):
    store, _ = filled
    _fill_maps(store, twilio)
    twilio.items["m0"]["box-9.e.twilio.1"] = {"v": 1, "b64": base64.b64encode(batch_bytes(
        "box-9", "box-9.e.twilio.1", [call_group(["box-9.e.1"])], 1)).decode()}
    forged = batch_bytes("box-1", "box-1.e.twilio.999", [call_group(["box-2.e.1"])], 1)
    twilio.items["m1"]["box-1.e.twilio.999"] = {"v": 1, "b64": base64.b64encode(forged).decode()}
    report = _import(storage, twilio, delete=True)
    assert report.refused == 2 and report.deleted == report.stored
    assert any("box-9 is not enrolled" in p for p in report.problems)
    assert any("does not belong to box box-1" in p for p in report.problems)
    left = {k for m in twilio.items.values() for k in m}
    assert left == {"box-9.e.twilio.1", "box-1.e.twilio.999"}
    assert_exactly_once(store, storage)


def test_paging(storage, twilio):
    for n in range(230):
        body = batch_bytes("box-1", f"box-1.e.twilio.{n}", [call_group([f"box-1.e.{n}"])], 1)
        twilio.items["m2"][f"box-1.e.twilio.{n}"] = {"v": 1,
                                                      "b64": base64.b64encode(body).decode()}
    report = _import(storage, twilio)
    assert report.stored == 230 and storage.count() == 230


def test_wrong_key_and_cli(storage, twilio, tmp_path, capsys):
    with pytest.raises(TwilioImportError, match="refused the API key"):
        import_twilio(storage, twilio.url, IS, SK, "wrong", MAPS)
    config = tmp_path / "hq.toml"
    config.write_text(f'[hq]\ndatabase = "{storage.url}"\n[twilio]\nservice_sid = "{IS}"\n'
                      f'api_key_sid = "{SK}"\napi_key_secret = "{KEY}"\n'
                      f'maps = {json.dumps(MAPS)}\nbase_url = "{twilio.url}"\n')
    assert main(["hq", "import-twilio", "-c", str(config)]) == 0
    assert "0 items read" in capsys.readouterr().out
