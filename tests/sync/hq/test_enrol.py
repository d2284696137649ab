"""Enrolment: 'hq add-box' prints one token, 'edgecall enrol TOKEN' makes the box sync;
'hq rotate-key' loses nothing in flight; a box whose id changed under its records is warned
about by doctor and refused by sync."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from edge.cli import main
from edge.config import ConfigError
from sync._enrol import TokenError, decode_token, encode_token
from sync._hq import HqSink
from sync._ledger import Ledger, connect
from sync._setup import build_channels
from sync.codec import batch_encoder
from tests.support import fill_surveys, open_store


def _token(capsys: pytest.CaptureFixture[str]) -> str:
    out = capsys.readouterr().out
    return next(word for word in out.split() if word.startswith("ec1."))


def _box(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["init", str(tmp_path / "box"), "--box-id", "box-1"]) == 0
    capsys.readouterr()
    return tmp_path / "box" / "edgecall.toml"


def test_token_round_trip_and_damage():
    token = encode_token("site-7", "https://hq.example.org/v1/batches", "s" * 32)
    assert decode_token(token) == {"box": "site-7", "url": "https://hq.example.org/v1/batches",
                                   "secret": "s" * 32}
    for bad in ("", "ec1.", token[:-5], "ec2." + token[4:], "ec1.e30"):
        with pytest.raises(TokenError):
            decode_token(bad)


def test_add_box_then_enrol_then_sync(tmp_path, hq, capsys):
    url = hq.url + "/v1/batches"
    assert main(["hq", "add-box", "site-7", "--db", hq.storage.url, "--url", url]) == 0
    token = _token(capsys)
    assert main(["hq", "add-box", "site-7", "--db", hq.storage.url]) == 2  # exists already
    config = _box(tmp_path, capsys)
    assert main(["enrol", token, "-c", str(config)]) == 0
    written = tomllib.loads(config.read_text())
    assert written["box"]["id"] == "site-7"
    assert written["hq"] == {"url": url, "allow_http": True}
    secrets = tomllib.loads((config.parent / "secrets.toml").read_text())
    assert secrets["hq_secret"] == decode_token(token)["secret"]
    assert (config.parent / "secrets.toml").stat().st_mode & 0o077 == 0
    store, sim = open_store(config.parent / "data", box_id="site-7", fast=True)
    fill_surveys(store, sim, 5)
    store.close()
    assert main(["sync", "--once", "--no-pull", "-c", str(config)]) == 0
    assert hq.storage.count() == 60
    assert {r["box"] for r in hq.storage.records()} == {"site-7"}


def test_rotation_loses_nothing_in_flight(tmp_path, hq, capsys):
    url = hq.url + "/v1/batches"
    assert main(["hq", "add-box", "site-8", "--db", hq.storage.url, "--url", url]) == 0
    old = decode_token(_token(capsys))["secret"].encode()
    store, sim = open_store(tmp_path / "box", box_id="site-8", fast=True)
    fill_surveys(store, sim, 10)
    ledger = Ledger(connect(store.path), "hq", "site-8", batch_encoder("site-8"), 30, 65536)
    in_flight = ledger.seal_next()  # sealed before the rotation, sent after it
    assert in_flight is not None
    assert main(["hq", "rotate-key", "site-8", "--db", hq.storage.url, "--url", url]) == 0
    new = decode_token(_token(capsys))["secret"].encode()
    # The box has not been given its new key yet: its old one still works.
    assert HqSink(url, "site-8", old).send(in_flight).kind == "ack"
    assert hq.storage.boxes()[-1].rotating
    # Given the new key (edgecall enrol), it signs with it; the old one is then retired.
    assert HqSink(url, "site-8", new).send(ledger.seal_next()).kind == "ack"
    assert not any(b.rotating for b in hq.storage.boxes())
    outcome = HqSink(url, "site-8", old).send(ledger.seal_next())
    assert outcome.kind == "auth"
    store.close()


def test_a_box_whose_id_changed_under_its_records(tmp_path, hq, capsys):
    from sync.doctor import doctor_checks

    config = _box(tmp_path, capsys)
    store, sim = open_store(config.parent / "data", box_id="box-1", fast=True)
    fill_surveys(store, sim, 2)
    store.close()
    text = config.read_text().replace('id = "box-1"', 'id = "box-2"', 1)
    config.write_text(text + f'\n[hq]\nurl = "{hq.url}/v1/batches"\nallow_http = true\n')
    from edge.config import load_config
    from edge.plugins import all_sections

    loaded = load_config(config, all_sections())
    warned = [r for r in doctor_checks(loaded) if r.name == "box id"]
    assert warned and warned[0].status == "warn" and "'box-1'" in warned[0].message
    assert main(["sync", "--once", "--no-pull", "-c", str(config)]) == 2
    assert "HQ refuses records of another box" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="another box"):
        build_channels(loaded, config.parent / "data" / "edgecall.db")
    # Enrolling as another box than the records' is refused too.
    token = encode_token("box-3", hq.url + "/v1/batches", "k" * 24)
    assert main(["enrol", token, "-c", str(config)]) == 2
