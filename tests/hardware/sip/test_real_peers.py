"""Proof against real SIP software (issue 11): a baresip softphone completes the demo survey
against ``edgecall serve`` with a [sip] line, first straight (trunk mode), then through kamailio
(the box registers to it, baresip calls the box through it, the box's BYE follows the
Record-Route). Keys go as RFC 2833 telephone-events; answers are read back from the store.
baresip and kamailio are required: these tests FAIL when they are missing."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .realpeers import HOST, Baresip, Kamailio

EXPECTED = {"language": "en", "consent": "yes", "household": "1", "need": "food",
            "callback": "no"}
KEYS = "111#12"  # English, (skip the intro), yes, 1 person #, food, no callback
ROOT = Path(__file__).resolve().parents[3]


class Serve:
    """``edgecall serve`` in its own process with the demo survey and a [sip] section."""

    def __init__(self, box: Path, sip: str) -> None:
        from edge.cli import main as edgecall

        assert edgecall(["init", str(box)]) == 0
        self.box = box
        config = box / "edgecall.toml"
        config.write_text(config.read_text() + "\n[sip]\n" + sip)
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "edge.cli", "serve", "--config", str(config)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True, cwd=box, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)

    def wait_log(self, pattern: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if re.search(pattern, line):
                    return line
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"edgecall serve: no {pattern!r} in its log:\n" + self.log())

    def log(self) -> str:
        return "".join(self.lines[-40:])

    def answers(self) -> dict[str, str]:
        with sqlite3.connect(self.box / "data" / "edgecall.db") as db:
            rows = db.execute("SELECT question, value FROM answers").fetchall()
        return dict(rows)

    def dispositions(self) -> list[str]:
        with sqlite3.connect(self.box / "data" / "edgecall.db") as db:
            return [r[0] for r in db.execute("SELECT disposition FROM calls").fetchall()]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture(scope="session")
def kamailio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kamailio]:
    from .conftest import free_ports

    proxy = Kamailio(tmp_path_factory.mktemp("kamailio"), free_ports(1))
    yield proxy
    proxy.close()


@pytest.fixture
def baresip(tmp_path: Path, tools: Any) -> Iterator[Baresip]:
    phone = Baresip(tmp_path / "caller", tools.free_ports(1), tools.free_ports(1),
                    tools.free_ports(10))
    yield phone
    phone.close()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    started: list[Serve] = []

    def start(sip: str) -> Serve:
        box = Serve(tmp_path / "box", sip)
        started.append(box)
        return box

    yield start
    for box in started:
        box.stop()


def sip_section(port: int, rtp: int, extra: str = "") -> str:
    return (f'bind_address = "{HOST}"\nadvertised_address = "{HOST}"\nport = {port}\n'
            f'rtp_port_low = {rtp}\nrtp_port_high = {rtp + 19}\ndtmf_mode = "rfc2833"\n'
            + extra)


def run_survey_call(phone: Baresip, uri: str, box: Serve) -> None:
    """Dial, wait for the answer, press the keys a person would, wait for the box's BYE."""
    assert phone.command("dial", uri).get("ok"), phone.output()
    phone.wait_event("CALL_ESTABLISHED", 15)
    time.sleep(1.0)  # the language prompt has started
    for key in KEYS:
        assert phone.command("sndcode", key).get("ok"), phone.output()
        time.sleep(0.8)
    phone.wait_event("CALL_CLOSED", 40)  # the box hangs up after its goodbye
    box.wait_log(r"ended: complete", 10)  # the call's record is closed after the BYE
    assert box.answers() == EXPECTED, box.log()
    assert box.dispositions() == ["complete"]
    assert "+255712345678" not in "".join(box.lines)  # never a raw number in the log


def test_baresip_completes_the_demo_survey_in_trunk_mode(serve, baresip, tools):
    port, rtp = tools.free_ports(1), tools.free_ports(20)
    box = serve(sip_section(port, rtp, f'allowed_sources = ["{HOST}"]\n'))
    box.wait_log(r"listening on .*trunk mode", 30)
    run_survey_call(baresip, f"sip:survey@{HOST}:{port}", box)


def test_baresip_through_kamailio_with_record_route(serve, baresip, kamailio, tools):
    port, rtp = tools.free_ports(1), tools.free_ports(20)
    box = serve(sip_section(port, rtp, (
        f'gateway_address = "{HOST}"\ngateway_port = {kamailio.port}\naccount = "box"\n'
        'password = "secret"\nregister_expires = 120\n')))
    box.wait_log(r"registered at .* for 120 s", 30)
    registered = kamailio.wait_log(rf"REGISTER box expires 120 from {HOST}:{port} ", 5)
    assert "qop=auth" in registered and "nc=00000001" in registered  # kamailio's digest
    # The REGISTER Call-ID is the one kept in the data dir for the next start.
    identity = json.loads((box.box / "data" / "sip-registration.json").read_text())
    assert f"call-id {identity['call_id']} cseq " in registered
    run_survey_call(baresip, f"sip:box@{HOST}:{kamailio.port}", box)
    # The box's BYE went to kamailio (the Record-Route), which relayed it on to baresip.
    kamailio.wait_log(rf"in-dialog BYE from {HOST}:{port} to sip:\S+ via record-route", 5)
    box.stop()  # its un-REGISTER, challenged by kamailio, is answered
    kamailio.wait_log(rf"REGISTER box expires 0 from {HOST}:{port} call-id "
                      rf"{re.escape(identity['call_id'])} cseq \d+ with \[Digest", 5)
