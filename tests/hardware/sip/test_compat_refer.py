"""The REFER outcome rules (hardware/sip/_compat/_refer.py), fed by hand."""

from __future__ import annotations

import pytest

from hardware.sip._compat._refer import Transfer, outcome_of, sipfrag_status


@pytest.mark.parametrize(("body", "code"), [
    (b"SIP/2.0 200 OK\r\n", 200), (b"SIP/2.0 100 Trying", 100),
    (b"  SIP/2.0 486 Busy Here\r\n", 486), (b"", None), (b"HTTP/1.1 200 OK", None),
    (b"SIP/2.0 2000 OK", None),
])
def test_sipfrag_status(body: bytes, code: int | None) -> None:
    assert sipfrag_status(body) == code


@pytest.mark.parametrize(("code", "status"), [
    (200, "completed"), (202, "completed"), (486, "busy"), (600, "busy"), (603, "busy"),
    (408, "no-answer"), (480, "no-answer"), (487, "no-answer"), (404, "failed"),
    (503, "failed"), (403, "failed"),
])
def test_outcome_of(code: int, status: str) -> None:
    assert outcome_of(code) == status


def test_accepted_then_trying_then_ok_reports_completed_once() -> None:
    transfer = Transfer()
    assert transfer.answered(202) is None
    assert transfer.notified(b"SIP/2.0 100 Trying", terminated=False) is None
    assert transfer.notified(b"SIP/2.0 180 Ringing", terminated=False) is None
    status, detail = transfer.notified(b"SIP/2.0 200 OK", terminated=True)  # type: ignore[misc]
    assert status == "completed" and "200" in detail
    assert transfer.notified(b"SIP/2.0 200 OK", terminated=True) is None  # a retransmission
    assert transfer.timed_out() is None and transfer.hung_up() is None


def test_a_refused_refer_fails_and_says_the_code() -> None:
    ended = Transfer().answered(501)
    assert ended is not None and ended[0] == "failed" and "501" in ended[1]


def test_no_answer_to_the_refer_fails() -> None:
    ended = Transfer().answered(None)
    assert ended is not None and ended[0] == "failed"


def test_a_terminated_subscription_without_a_final_status_fails() -> None:
    transfer = Transfer()
    transfer.answered(202)
    ended = transfer.notified(b"SIP/2.0 100 Trying", terminated=True)
    assert ended is not None and ended[0] == "failed"


def test_a_final_notify_before_the_202_still_counts() -> None:
    """UDP may reorder: the NOTIFY's outcome stands, the late 202 changes nothing."""
    transfer = Transfer()
    ended = transfer.notified(b"SIP/2.0 486 Busy Here", terminated=True)
    assert ended is not None and ended[0] == "busy"
    assert transfer.answered(202) is None


def test_a_hang_up_after_acceptance_means_the_caller_went_over() -> None:
    transfer = Transfer()
    transfer.answered(202)
    assert transfer.hung_up() == ("completed",
                                  "the gateway ended our leg after accepting the transfer")


def test_a_hang_up_before_acceptance_fails() -> None:
    ended = Transfer().hung_up()
    assert ended is not None and ended[0] == "failed"


def test_timing_out_says_what_was_last_heard() -> None:
    transfer = Transfer()
    transfer.answered(202)
    transfer.notified(b"SIP/2.0 180 Ringing", terminated=False)
    ended = transfer.timed_out()
    assert ended is not None and ended[0] == "failed" and "180" in ended[1]
