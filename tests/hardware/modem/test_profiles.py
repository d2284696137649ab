"""Profiles: the TTS command forms, and every init command accepted by the matching
simulated module (sans-IO, no port)."""

from __future__ import annotations

import pytest

from hardware.modem import PROFILES
from hardware.modem._profiles import tts_command
from hardware.modem.simulator import ModemModel


def test_tts_ascii_and_ucs2() -> None:
    assert tts_command(PROFILES["sim800"], 'Say "yes"\nnow') == "AT+CTTS=2,\"Say 'yes' now\""
    assert tts_command(PROFILES["ec25"], "Hello") == 'AT+QWTTS=1,1,2,"Hello"'
    assert tts_command(PROFILES["sim7600"], "مرحبا") == 'AT+CTTS=1,"06450631062D06280627"'


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_init_commands_accepted_by_the_module(name: str) -> None:
    profile = PROFILES[name]
    model = ModemModel(name)
    for command in ("ATE0", "AT+CMEE=1", *profile.init, *profile.optional_init,
                    *profile.dtmf_enable, profile.hangup, profile.iccid, profile.time_query):
        model.receive(command.encode() + b"\r", 1.0)
        reply = model.take_output(1.0)
        assert reply.rstrip().endswith(b"OK"), (command, reply)
    assert model.dtmf_on and not model.echo and model.clip
