"""``edgecall doctor`` checks for the SIP line, against SIPp on 127.0.0.1 (required: FAILS
without it), plus the pure parts (messages, verdicts)."""

from __future__ import annotations

import shutil
import socket
from typing import Any

import pytest

from hardware.sip import SECTION, doctor_checks
from hardware.sip._doctor import (
    Answer,
    build_options,
    judge_dtmf,
    judge_register,
    judge_resampler,
    parse_answer,
)


class _Config:
    def __init__(self, secrets: dict[str, Any] | None = None, **sip: object) -> None:
        values, problems = SECTION.parse(sip)
        assert problems == [], problems
        self._sip = values
        self.secrets = secrets or {}

    def section(self, name: str) -> dict | None:
        return self._sip if name == "sip" else None


def _results(secrets: dict[str, Any] | None = None, **sip: object) -> dict[str, Any]:
    return {r.name: r for r in doctor_checks(_Config(secrets, **sip))}


def _sip(tools: Any, **overrides: object) -> dict[str, object]:
    return {"bind_address": tools.HOST, "port": tools.free_ports(1), **overrides}


# --- against SIPp ---------------------------------------------------------------------------

def test_gateway_answering_options(sipp, tools):
    gateway = tools.free_ports(1)
    proc = sipp.start("doctor_gateway.xml", None, port=gateway, timeout_s=10)
    results = _results(**_sip(tools, gateway_address=tools.HOST, gateway_port=gateway))
    assert sipp.wait(proc, timeout=12) == 0, sipp.errors()
    assert results["sip port"].status == "ok"
    gw = results["sip gateway"]
    assert (gw.status, gw.facts["code"], gw.facts["agent"]) == ("ok", 200, "SIPp-doctor-gateway")
    assert "SIPp-doctor-gateway" in gw.message
    assert "sip registration" not in results  # no account: trunk mode
    assert results["sip dtmf"].status == "ok"


def test_nothing_listening(tools):
    silent = tools.free_ports(1)
    results = _results(**_sip(tools, gateway_address=tools.HOST, gateway_port=silent))
    gw = results["sip gateway"]
    assert gw.status == "fail"
    assert "does not answer" in gw.message
    assert "gateway's IP" in gw.fix and "firewall" in gw.fix and "same LAN" in gw.fix


def test_registrar_right_and_wrong_password(sipp, tools):
    gateway = tools.free_ports(1)
    proc = sipp.start("doctor_gateway.xml", None, port=gateway, calls=2, timeout_s=10)
    # The password from the secrets file, as the line takes it when [sip] password is empty.
    results = _results({"sip_password": "secret"}, **_sip(
        tools, gateway_address=tools.HOST, gateway_port=gateway, account="box"))
    assert sipp.wait(proc, timeout=12) == 0, sipp.errors()
    reg = results["sip registration"]
    assert reg.status == "ok", reg
    assert reg.facts["expires"] == 60 and reg.facts["codes"] == [401, 200]
    assert results["sip gateway"].status == "ok"

    proc = sipp.start("doctor_gateway.xml", None, port=gateway, calls=2, timeout_s=10)
    results = _results(**_sip(tools, gateway_address=tools.HOST, gateway_port=gateway,
                              account="box", password="wrong"))
    assert sipp.wait(proc, timeout=12) == 0, sipp.errors()
    reg = results["sip registration"]
    assert reg.status == "fail"
    assert "wrong account or password" in reg.message
    assert reg.facts["codes"] == [401, 403]
    assert "sip_password" in reg.fix


def test_registrar_silent(tools):
    silent = tools.free_ports(1)
    results = _results(**_sip(tools, gateway_address=tools.HOST, gateway_port=silent,
                              account="box", password="secret"))
    reg = results["sip registration"]
    assert reg.status == "fail" and "no answer to REGISTER" in reg.message
    assert results["sip gateway"].status == "fail"


def test_bind_port_taken(tools):
    settings = _sip(tools)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind((tools.HOST, settings["port"]))
        results = _results(**settings)
    port = results["sip port"]
    assert port.status == "fail"
    assert "port in use" in port.message
    assert "edgecall serve" in port.fix
    # Trunk mode with nobody named: anyone may call.
    assert results["sip gateway"].status == "warn"
    # Freed again: the same port passes.
    assert _results(**settings)["sip port"].status == "ok"


def test_port_taken_still_pings_but_does_not_register(sipp, tools):
    gateway = tools.free_ports(1)
    proc = sipp.start("doctor_gateway.xml", None, port=gateway, timeout_s=10)
    settings = _sip(tools, gateway_address=tools.HOST, gateway_port=gateway, account="box",
                    password="secret")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind((tools.HOST, settings["port"]))
        results = _results(**settings)
    assert sipp.wait(proc, timeout=12) == 0, sipp.errors()
    assert results["sip port"].status == "fail"
    assert results["sip gateway"].status == "ok"
    assert results["sip registration"].status == "warn"


def test_disabled_or_absent_checks_nothing():
    class _Stub:
        def __init__(self, sip: dict[str, Any] | None) -> None:
            self.sip = sip
            self.secrets: dict[str, Any] = {}

        def section(self, name: str) -> dict[str, Any] | None:
            return self.sip

    assert list(doctor_checks(_Stub(None))) == []
    values, _ = SECTION.parse({})
    assert list(doctor_checks(_Stub({**values, "enabled": False}))) == []


# --- pure parts -----------------------------------------------------------------------------

def test_options_round_trip_through_the_parser():
    request = build_options(local="10.0.0.2", local_port=5060, gateway="10.0.0.1",
                            gateway_port=5060, call_id="abc", branch="b1", tag="t1")
    assert request.startswith(b"OPTIONS sip:10.0.0.1:5060 SIP/2.0\r\n")
    assert parse_answer(request) is None  # a request is not an answer
    answer = parse_answer(
        b"SIP/2.0 200 OK\r\nv: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKb1\r\ni: abc\r\n"
        b"CSeq: 1 OPTIONS\r\nuser-agent: GoIP\r\nAllow: INVITE, INFO\r\nl: 0\r\n\r\n")
    assert answer == Answer(200, "OK", "abc", answer.headers)
    assert answer.agent == "GoIP" and answer.allow == ["INVITE", "INFO"]
    assert parse_answer(b"\x00\xff garbage") is None


def test_register_verdicts():
    assert judge_register([401, 200], 60, "box", "gw").status == "ok"
    assert "wrong account or password" in judge_register([401, 401], None, "box", "gw").message
    assert "wrong account or password" in judge_register([403], None, "box", "gw").message
    assert "no answer" in judge_register([None], None, "box", "gw").message
    assert "did not answer the authenticated" in judge_register([401, None], None, "box",
                                                                "gw").message
    assert "register_expires" in judge_register([423], None, "box", "gw").fix


def test_dtmf_verdicts():
    assert judge_dtmf("auto", ["PCMU"], None).status == "ok"
    assert judge_dtmf("inband", ["PCMU", "PCMA"], None).status == "warn"
    assert "non-G.711" in judge_dtmf("inband", ["G729"], None).message
    assert judge_dtmf("info", ["PCMU"], ["INVITE", "BYE"]).status == "warn"
    assert judge_dtmf("info", ["PCMU"], ["INVITE", "INFO"]).status == "ok"


def test_sox_present_or_said_missing(tools, monkeypatch):
    if shutil.which("sox") is None:
        pytest.fail("sox is required (apt-get install sox)")
    assert _results(**_sip(tools))["sip prompts"].status == "ok"
    monkeypatch.setattr("hardware.sip._doctor.sox_path", lambda: None)
    missing = _results(**_sip(tools))["sip prompts"]
    assert missing.status == "warn" and "apt-get install sox" in missing.fix
    assert judge_resampler(None).status == "warn"
