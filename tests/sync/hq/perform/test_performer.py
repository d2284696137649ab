"""Performing for real, on SQLite and PostgreSQL, against HTTP servers on 127.0.0.1: each
request once (also with performers racing), what the far side answered kept, disallowed
hosts never called, SMS through the Twilio stand-in with the caller's number only when the
box sent it."""

from __future__ import annotations

import base64
import json
import socket
import threading
from urllib.parse import parse_qs

import pytest

from sync.hq import open_storage
from sync.hq.perform import Performer, PerformPolicy, TwilioAccount
from sync.hq.perform._send import send
from sync.hq.storage.request_queue import RequestQueue
from tests.support._twilio import TwilioSyncStandIn

from .far_side import FarSide
from .helpers import CALLER, call_record, posts, request_record, store

AC = "AC" + "7" * 32
TOKEN = "auth-token-for-tests"


@pytest.fixture
def far():
    server = FarSide()
    yield server
    server.close()


def _performer(storage, hosts=(), timeout_s=5.0, twilio=None):
    policy = PerformPolicy(allowed_hosts=tuple(hosts), timeout_s=timeout_s,
                           twilio=twilio or TwilioAccount())
    return Performer(RequestQueue(storage), policy, send)


def test_a_queued_post_is_sent_as_recorded_once(storage, far):
    store(storage, posts(far.url, 1))
    performer = _performer(storage, [far.host])
    report = performer.run_once()
    assert report.taken_in == 1 and list(report.outcomes.values()) == ["done"]
    (seen,) = far.seen
    assert (seen.method, seen.path, seen.body) == ("POST", "/r/1", b'{"n": 1}')
    assert seen.headers["Content-Type"] == "application/json"
    row = performer.queue.rows()[0]
    assert (row.state, row.status_code, row.excerpt, row.error) == ("done", 200, "ok", None)
    assert performer.run_once().outcomes == {}  # nothing left, nothing sent again
    assert len(far.seen) == 1


def test_two_performers_racing_perform_each_request_once(database, storage, far):
    store(storage, posts(far.url, 40))
    other = open_storage(database)
    try:
        performers = [_performer(storage, [far.host]), _performer(other, [far.host])]
        barrier = threading.Barrier(2)
        reports = []

        def run(performer):
            barrier.wait()
            reports.append(performer.run_once())

        threads = [threading.Thread(target=run, args=(p,)) for p in performers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert sorted(far.paths()) == sorted(f"/r/{i}" for i in range(1, 41))
        performed = [rid for r in reports for rid in r.outcomes]
        assert len(performed) == len(set(performed)) == 40
        assert RequestQueue(storage).counts() == {"done": 40}
    finally:
        other.close()


def test_a_host_not_allowed_is_refused_and_never_called(storage, far):
    store(storage, posts(far.url, 1))
    report = _performer(storage, hosts=()).run_once()
    assert list(report.outcomes.values()) == ["refused"]
    assert far.seen == []
    row = RequestQueue(storage).rows()[0]
    assert "allowed_hosts" in row.error and row.status_code is None
    _performer(storage, hosts=["other.example.org"]).run_once()  # still refused: not again
    assert far.seen == []


def test_a_far_side_error_is_recorded_with_its_answer(storage, far):
    far.answer = (500, "database is down\n")
    store(storage, posts(far.url, 1))
    report = _performer(storage, [far.host]).run_once()
    assert list(report.outcomes.values()) == ["failed"]
    row = RequestQueue(storage).rows()[0]
    assert (row.status_code, row.excerpt, row.error) == (500, "database is down",
                                                         "answered 500")
    _performer(storage, [far.host]).run_once()
    assert len(far.seen) == 1  # a failed request is not retried by itself


def test_a_far_side_that_never_answers_leaves_the_request_uncertain(storage, far):
    far.hang.set()
    store(storage, posts(far.url, 1))
    report = _performer(storage, [far.host], timeout_s=1.0).run_once()
    assert list(report.outcomes.values()) == ["uncertain"]
    row = RequestQueue(storage).rows()[0]
    assert "no answer within 1 s" in row.error and "may have acted" in row.error
    _performer(storage, [far.host]).run_once()
    assert len(far.seen) == 1


def test_no_connection_at_all_is_a_failure(storage):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    store(storage, posts(f"http://127.0.0.1:{port}", 1))
    _performer(storage, [f"127.0.0.1:{port}"]).run_once()
    row = RequestQueue(storage).rows()[0]
    assert row.state == "failed" and "could not connect" in row.error


@pytest.fixture
def twilio():
    server = TwilioSyncStandIn(account_sid=AC, auth_token=TOKEN)
    yield server
    server.close()


def _sms_account(twilio):
    return TwilioAccount(AC, TOKEN, twilio.url, sms_from="+15550001111")


def test_an_sms_to_the_caller_goes_to_the_number_the_box_sent_for_a_callback(storage, twilio):
    sms = request_record(1, {"to": CALLER, "from": "+255799999999", "body": "Your ref: 12"},
                         widget="send-message")
    store(storage, [call_record(), sms],
          callbacks=[{"call": "box-1.e.1", "number": "+255700000009",
                      "requested_utc": "2026-11-27T10:00:01.000Z"}])
    report = _performer(storage, twilio=_sms_account(twilio)).run_once()
    assert list(report.outcomes.values()) == ["done"]
    (message,) = twilio.messages
    assert message["fields"] == {"To": "+255700000009", "From": "+15550001111",
                                 "Body": "Your ref: 12"}
    assert message["auth"] == "Basic " + base64.b64encode(f"{AC}:{TOKEN}".encode()).decode()
    row = RequestQueue(storage).rows()[0]
    assert row.status_code == 201 and json.loads(row.excerpt)["sid"].startswith("SM")
    _performer(storage, twilio=_sms_account(twilio)).run_once()
    assert len(twilio.messages) == 1


def test_an_sms_to_a_caller_whose_number_hq_never_got_is_refused(storage, twilio):
    sms = request_record(1, {"to": CALLER, "body": "hi"}, widget="send-message")
    store(storage, [call_record(), sms])
    policy = PerformPolicy(twilio=_sms_account(twilio), number_wait_s=0)
    Performer(RequestQueue(storage), policy, send).run_once()
    row = RequestQueue(storage).rows()[0]
    assert row.state == "refused" and "send_callback_numbers" in row.error
    assert twilio.messages == []


def test_an_sms_waits_for_a_callers_number_that_comes_in_a_later_batch(storage, twilio):
    """A box seals the request in one batch and the caller's callback (with the number) in
    the next: the SMS waits, unclaimed, and goes once the number is at HQ."""
    sms = request_record(1, {"to": CALLER, "body": "Your ref: 7"}, widget="send-message")
    store(storage, [call_record(), sms])
    performer = _performer(storage, twilio=_sms_account(twilio))
    assert list(performer.run_once().outcomes.values()) == ["waiting"]
    row = RequestQueue(storage).rows()[0]
    assert (row.state, row.claimed_by) == ("waiting", None) and "no number" in row.error
    again = performer.run_once()  # nothing new: it stays waiting, nothing sent
    assert (again.woken, again.outcomes) == ([], {}) and twilio.messages == []
    store(storage, [], callbacks=[{"call": "box-1.e.1", "number": "+255700000009",
                                   "requested_utc": "2026-11-27T10:00:01.000Z"}])
    woken = performer.run_once()
    assert woken.woken == [sms.id] and list(woken.outcomes.values()) == ["done"]
    assert [m["fields"]["To"] for m in twilio.messages] == ["+255700000009"]
    assert performer.run_once().outcomes == {} and len(twilio.messages) == 1


def test_an_sms_that_waited_too_long_for_the_number_is_refused(storage, twilio):
    sms = request_record(1, {"to": CALLER, "body": "hi"}, widget="send-message")
    store(storage, [call_record(), sms])
    clock = [1_796_000_000.0]  # 2026-12-01: the request is queued now
    policy = PerformPolicy(twilio=_sms_account(twilio), number_wait_s=3600)
    performer = Performer(RequestQueue(storage), policy, send, wall=lambda: clock[0])
    assert list(performer.run_once().outcomes.values()) == ["waiting"]
    clock[0] += 3599
    assert performer.run_once().outcomes == {}
    clock[0] += 2  # the wait is over: queued again, then refused with the reason
    report = performer.run_once()
    assert len(report.woken) == 1 and list(report.outcomes.values()) == ["refused"]
    assert RequestQueue(storage).rows()[0].state == "refused" and twilio.messages == []


def test_a_message_twilio_refuses_is_failed_with_twilios_answer(storage, twilio):
    sms = request_record(1, {"to": "+255700000001", "body": "hi"}, widget="send-message")
    store(storage, [sms])
    wrong = TwilioAccount(AC, "wrong-token", twilio.url, sms_from="+15550001111")
    _performer(storage, twilio=wrong).run_once()
    row = RequestQueue(storage).rows()[0]
    assert (row.state, row.status_code) == ("failed", 401)
    assert json.loads(row.excerpt)["code"] == 20003


def test_form_fields_reach_the_far_side(storage, far):
    record = request_record(1, {"method": "POST", "url": f"{far.url}/form",
                                "content_type": "application/x-www-form-urlencoded",
                                "parameters": [{"key": "need", "value": "water"}]})
    store(storage, [record])
    _performer(storage, [far.host]).run_once()
    assert parse_qs(far.seen[0].body.decode()) == {"need": ["water"]}
