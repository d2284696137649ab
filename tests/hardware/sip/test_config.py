"""The [sip] section: defaults, checks, and the line kind it plugs in with."""

from __future__ import annotations

from hardware.sip import KIND, SECTION


def test_defaults_are_valid():
    values, problems = SECTION.parse({})
    assert problems == []
    assert values["dtmf_mode"] == "auto" and values["codecs"] == ["PCMU", "PCMA"]
    assert SECTION.optional and KIND.name == "sip" and KIND.section is SECTION


def test_problems_name_the_key():
    _, problems = SECTION.parse({
        "gateway_address": "gw.local", "codecs": ["G729"], "dtmf_mode": "tones",
        "allowed_sources": ["10.0.0.0/33"], "port": 0,
    })
    keys = {p.key for p in problems}
    assert keys == {"sip.gateway_address", "sip.codecs", "sip.dtmf_mode", "sip.allowed_sources",
                    "sip.port"}


def test_cross_checks():
    _, problems = SECTION.parse({"rtp_port_low": 20000, "rtp_port_high": 10000,
                                 "account": "box7"})
    assert {p.key for p in problems} == {"sip.rtp_port_low", "sip.gateway_address"}
