"""The SIP line against SIPp callers on 127.0.0.1, driving the Call interface directly."""

from __future__ import annotations


def test_rfc2833_digits_arrive_once_each(sipp, make_line, tools):
    line = make_line()
    proc = sipp.start("uac_rfc2833_digits.xml", line.port)
    call = line.next_call()
    result = tools.drive(call, keys_wanted=6)
    assert result["keys"] == "111#12"
    assert sipp.wait(proc) == 0, sipp.errors()
