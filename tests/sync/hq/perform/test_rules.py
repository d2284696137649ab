"""The rules of performing, without sockets or clocks: which hosts HQ calls, what a recorded
request becomes on the wire, where an SMS goes when the box pseudonymised the number, and
what each result means for the request's state."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from sync.hq.perform._rules import (
    Contact,
    Failure,
    HttpCall,
    PerformPolicy,
    Refusal,
    Reply,
    TwilioAccount,
    excerpt,
    host_refusal,
    lease_cutoff,
    outcome,
    plan,
)

CALLER = "p:" + "ab" * 10
TWILIO = TwilioAccount("AC" + "1" * 32, "token", "https://api.twilio.test", "+15550001111")


def _http(request, hosts=("crm.example.org",)):
    return plan({"widget": "make-http-request", "request": request},
                None, PerformPolicy(allowed_hosts=tuple(hosts)))


def _sms(request, contact=None, twilio=TWILIO):
    return plan({"widget": "send-message", "request": request}, contact,
                PerformPolicy(twilio=twilio))


@pytest.mark.parametrize(("url", "allowed", "ok"), [
    ("https://crm.example.org/hook", ["crm.example.org"], True),
    ("https://CRM.example.org./hook", ["crm.example.org"], True),
    ("https://crm.example.org:8443/hook", ["crm.example.org"], False),  # default port only
    ("https://crm.example.org:8443/hook", ["crm.example.org:8443"], True),
    ("http://127.0.0.1:9000/x", ["127.0.0.1:9000"], True),
    ("https://a.b.example.org/x", ["*.example.org"], True),
    ("https://example.org/x", ["*.example.org"], False),
    ("https://evil.org/x?crm.example.org", ["crm.example.org"], False),
    ("https://crm.example.org@evil.org/x", ["crm.example.org"], False),
    # Parsers disagree on these: urlsplit sees the allowed host, requests would reach evil.org.
    ("http://evil.org\\@crm.example.org/", ["crm.example.org"], False),
    ("http://evil.org\t@crm.example.org/", ["crm.example.org"], False),
    ("http://a@evil.org@crm.example.org/", ["crm.example.org"], True),  # both: crm
    ("http://[::1]:8080/x", ["[::1]:8080"], True),
    ("file:///etc/passwd", ["crm.example.org"], False),
    ("ftp://crm.example.org/x", ["crm.example.org"], False),
])
def test_only_allowed_hosts_are_called(url, allowed, ok):
    assert (host_refusal(url, allowed) is None) is ok


def test_with_no_host_allowed_every_url_is_refused_and_says_why():
    why = host_refusal("https://crm.example.org/x", [])
    assert why is not None and "allowed_hosts" in why and "empty" in why
    result = _http({"method": "POST", "url": "https://crm.example.org/x"}, hosts=())
    assert isinstance(result, Refusal) and "allowed_hosts" in result.reason


def test_a_json_post_is_sent_as_recorded():
    call = _http({"method": "POST", "url": "https://crm.example.org/hook",
                  "content_type": "application/json", "body": '{"need": "water"}'})
    assert call == HttpCall("POST", "https://crm.example.org/hook",
                            {"Content-Type": "application/json"}, b'{"need": "water"}')


def test_form_parameters_go_in_the_body_and_get_parameters_in_the_query():
    params = [{"key": "need", "value": "food & water"}, {"key": "n", "value": 3}]
    form = _http({"method": "POST", "url": "https://crm.example.org/hook",
                  "content_type": "application/x-www-form-urlencoded", "parameters": params})
    assert isinstance(form, HttpCall)
    assert parse_qs(form.body.decode()) == {"need": ["food & water"], "n": ["3"]}
    get = _http({"method": "GET", "url": "https://crm.example.org/hook?a=1",
                 "parameters": params})
    assert isinstance(get, HttpCall) and get.body is None
    assert get.url == "https://crm.example.org/hook?a=1&need=food+%26+water&n=3"


@pytest.mark.parametrize(("request_", "reason"), [
    ({"method": "TRACE", "url": "https://crm.example.org/"}, "method"),
    ({"method": "POST"}, "no URL"),
    ({"method": "POST", "url": "https://crm.example.org/", "add_twilio_auth": True},
     "add_twilio_auth"),
    ({"method": "POST", "url": "https://crm.example.org/", "parameters": "x=1"},
     "parameters"),
])
def test_requests_hq_will_not_send_are_refused_with_a_reason(request_, reason):
    result = _http(request_)
    assert isinstance(result, Refusal) and reason in result.reason


def test_an_sms_goes_through_the_messages_api_from_hqs_number():
    call = _sms({"to": "+255700000001", "from": "+255799999999", "body": "Ref 12"})
    assert isinstance(call, HttpCall)
    assert call.url == f"https://api.twilio.test/2010-04-01/Accounts/{TWILIO.account_sid}" \
        "/Messages.json"
    assert call.auth == (TWILIO.account_sid, "token")
    # HQ's own sender, not the box's line number (not one of HQ's Twilio senders).
    assert parse_qs(call.body.decode()) == {"To": ["+255700000001"],
                                            "From": ["+15550001111"], "Body": ["Ref 12"]}
    service = TwilioAccount(TWILIO.account_sid, "token", messaging_service_sid="MG" + "2" * 32)
    via = _sms({"to": "+255700000001", "body": "x"}, twilio=service)
    assert parse_qs(via.body.decode())["MessagingServiceSid"] == ["MG" + "2" * 32]
    assert "From" not in parse_qs(via.body.decode())


def test_a_pseudonymised_caller_is_sent_to_only_with_the_calls_callback_number():
    sent = _sms({"to": CALLER, "body": "hi"}, Contact(CALLER, "+255700000009"))
    assert parse_qs(sent.body.decode())["To"] == ["+255700000009"]
    no_number = _sms({"to": CALLER, "body": "hi"}, Contact(CALLER, None))
    assert isinstance(no_number, Refusal) and "send_callback_numbers" in no_number.reason
    other = _sms({"to": "p:" + "cd" * 10, "body": "hi"}, Contact(CALLER, "+255700000009"))
    assert isinstance(other, Refusal) and "not this call's caller" in other.reason


@pytest.mark.parametrize(("request_", "twilio", "reason"), [
    ({"to": "+255700000001", "body": "x"}, TwilioAccount(), "no Twilio account"),
    ({"to": "0700 000 001", "body": "x"}, TWILIO, "E.164"),
    ({"to": "+255700000001"}, TWILIO, "no body"),
    ({"body": "x"}, TWILIO, "no recipient"),
])
def test_messages_hq_cannot_send_are_refused(request_, twilio, reason):
    result = _sms(request_, twilio=twilio)
    assert isinstance(result, Refusal) and reason in result.reason


def test_a_record_without_a_known_widget_or_request_is_refused():
    assert isinstance(plan({"widget": "run-function", "request": {}}, None, PerformPolicy()),
                      Refusal)
    assert isinstance(plan({"widget": "send-message"}, None, PerformPolicy()), Refusal)


def test_what_each_result_means():
    assert outcome(Reply(201, '{"sid": "SM1"}')).state == "done"
    failed = outcome(Reply(500, "boom\n" + "x" * 1000))
    assert (failed.state, failed.status_code, failed.error) == ("failed", 500, "answered 500")
    assert failed.excerpt.startswith("boom x") and len(failed.excerpt) == 300
    assert outcome(Reply(302, "")).state == "failed"  # redirects are not followed
    lost = outcome(Failure("no answer within 15 s", sent=True))
    assert lost.state == "uncertain" and "may have acted" in lost.error
    assert outcome(Failure("could not connect", sent=False)).state == "failed"
    assert outcome(Refusal("no")).state == "refused"
    assert excerpt("a  b\n c") == "a b c"


def test_the_lease_runs_from_the_claim():
    assert lease_cutoff(1000.0, 600.0) == 400.0
