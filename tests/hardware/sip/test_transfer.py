"""Blind transfer (REFER) against SIPp as the gateway: the Call interface's ``transfer``
reports once, in Studio's DialCallStatus words, from what the gateway says."""

from __future__ import annotations

import time
from typing import Any

from edge.lines import RemoteHangup, TransferFinished

from .conftest import SCENARIOS

NUMBER = "+254700000100"


def gateway(sipp: Any, final_status: str) -> str:
    """The accepting gateway's scenario, its final NOTIFY saying ``final_status``."""
    path = sipp.workdir / "uac_refer.xml"
    path.write_text((SCENARIOS / "uac_refer.template.xml").read_text().replace(
        "FINAL_STATUS", final_status))
    return str(path)


def transfer_outcome(call: Any, limit_s: float = 15) -> tuple[TransferFinished, list[Any]]:
    """Answer, ask for the transfer, collect events until it is reported."""
    call.answer()
    call.transfer(7, NUMBER, 10)
    seen: list[Any] = []
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        event = call.next_event(0.5)
        if event is not None:
            seen.append(event)
        if isinstance(event, TransferFinished):
            return event, seen
    raise AssertionError(f"no TransferFinished; events {seen}")


def test_the_gateway_connects_the_caller(sipp, make_line):
    line = make_line()
    proc = sipp.start(gateway(sipp, "200 OK"), line.port)
    call = line.next_call()
    finished, _ = transfer_outcome(call)
    assert (finished.transfer_id, finished.status) == (7, "completed")
    assert NUMBER not in finished.detail
    call.hang_up()  # the server ends the call once connected: our BYE (RFC 5589)
    assert sipp.wait(proc) == 0, sipp.errors()  # Refer-To and Referred-By checked by SIPp


def test_a_busy_number_leaves_the_caller_with_the_box(sipp, make_line):
    line = make_line()
    proc = sipp.start(gateway(sipp, "486 Busy Here"), line.port)
    call = line.next_call()
    finished, _ = transfer_outcome(call)
    assert finished.status == "busy"
    assert call.next_event(0.5) is None  # still in the call
    call.hang_up()
    assert sipp.wait(proc) == 0, sipp.errors()


def test_nobody_answers(sipp, make_line):
    line = make_line()
    proc = sipp.start(gateway(sipp, "480 Temporarily Unavailable"), line.port)
    finished, _ = transfer_outcome(line.next_call())
    assert finished.status == "no-answer"
    line.line.phone.calls[next(iter(line.line.phone.calls))].hangup()
    assert sipp.wait(proc) == 0, sipp.errors()


def test_a_gateway_that_does_not_transfer(sipp, make_line):
    line = make_line()
    proc = sipp.start("uac_refer_refused.xml", line.port)
    call = line.next_call()
    finished, _ = transfer_outcome(call)
    assert finished.status == "failed" and "405" in finished.detail
    call.hang_up()
    assert sipp.wait(proc) == 0, sipp.errors()


def test_a_gateway_that_takes_the_transfer_and_hangs_up_at_once(sipp, make_line):
    line = make_line()
    proc = sipp.start("uac_refer_bye.xml", line.port)
    call = line.next_call()
    finished, seen = transfer_outcome(call)
    assert finished.status == "completed"
    assert not any(isinstance(e, RemoteHangup) for e in seen)  # the transfer comes first
    assert isinstance(call.next_event(1.0), RemoteHangup)
    assert sipp.wait(proc) == 0, sipp.errors()


def test_no_final_word_in_time_is_a_failure(sipp, make_line):
    """No word from the gateway at all (the REFER is kept from leaving): after the ring time
    plus transfer_timeout_s the transfer is failed, and the caller is still with the box.
    SIPp, waiting for a REFER that never comes, is not checked."""
    line = make_line(transfer_timeout_s=5)
    proc = sipp.start("uac_refer_refused.xml", line.port)
    call = line.next_call()
    call.answer()
    line.line.phone.sip.refer = lambda *args, **kwargs: None  # the REFER never leaves
    started = time.monotonic()
    call.transfer(3, NUMBER, 0)
    event = call.next_event(10)
    assert isinstance(event, TransferFinished) and event.status == "failed"
    assert 4 <= time.monotonic() - started <= 9
    call.hang_up()
    sipp.wait(proc, timeout=20)


def test_a_line_with_transfers_off_says_unsupported(sipp, make_line):
    line = make_line(transfer_to="")
    proc = sipp.start("uac_box_bye.xml", line.port)
    call = line.next_call()
    call.answer()
    call.transfer(1, NUMBER, 10)
    event = call.next_event(1)
    assert isinstance(event, TransferFinished) and event.status == "unsupported"
    call.hang_up()
    assert sipp.wait(proc) == 0, sipp.errors()
