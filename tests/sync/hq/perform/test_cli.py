"""``edgecall hq perform`` / ``hq requests [retry]`` / ``hq export --table requests``, and the
whole path: a box queues a request, syncs it (twice), HQ performs it once. A performer
killed in the middle of a request leaves it uncertain, never performed again by itself."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from edge.cli import main
from edge.records import RequestInput
from sync._batching import ACK
from sync._hq import HqSink
from sync._runner import drain
from sync.hq.perform import Performer
from sync.hq.perform._keys import policy
from sync.hq.perform._send import send
from sync.hq.storage.request_queue import RequestQueue

from ...conftest import SECRET
from ...helpers import ledger_for
from .far_side import FarSide
from .helpers import posts, store


@pytest.fixture
def far():
    server = FarSide()
    yield server
    server.close()


def _config(tmp_path, far, **extra):
    lines = [f'allowed_hosts = ["{far.host}"]', "timeout_s = 20.0", "lease_s = 90.0"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in extra.items()]
    path = tmp_path / "hq.toml"
    path.write_text("[requests]\n" + "\n".join(lines) + "\n")
    return path


def _edgecall(*argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c",
                             "import sys; from edge.cli import main; sys.exit(main())", *argv],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_a_performer_killed_mid_request_leaves_it_uncertain_until_an_operator_releases_it(
        database, storage, far, tmp_path, capsys):
    far.hang.set()  # the far side takes the request and does not answer
    store(storage, posts(far.url, 1))
    config = _config(tmp_path, far)
    proc = _edgecall("hq", "perform", "--once", "--db", database, "-c", str(config))
    try:
        assert far.arrived.wait(60), proc.communicate(timeout=5)[0] if proc.poll() else ""
        proc.kill()  # SIGKILL: no outcome recorded
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    queue = RequestQueue(storage)
    (row,) = queue.rows()
    assert row.state == "claimed" and row.claimed_by

    # Within the lease nothing happens; after it the claim is abandoned: uncertain.
    cfg = policy({**_defaults(), "allowed_hosts": [far.host], "lease_s": 90.0})
    assert Performer(queue, cfg, send).run_once().abandoned == []
    later = Performer(queue, cfg, send, wall=lambda: time.time() + 91)
    report = later.run_once()
    assert report.abandoned == [row.request_id] and report.outcomes == {}
    assert len(far.seen) == 1
    assert later.run_once().outcomes == {} and len(far.seen) == 1  # never performed again

    args = ["--db", database, "-c", str(config)]
    assert main(["hq", "requests", "--state", "uncertain", *args]) == 0
    out = capsys.readouterr().out
    assert row.request_id in out and "may have acted" in out and "1 uncertain" in out

    # The operator checked the far side did not act: release it, and it is performed.
    far.hang.clear()
    assert main(["hq", "requests", "retry", row.request_id, *args]) == 0
    assert main(["hq", "requests", "retry", row.request_id, *args]) == 1  # queued already
    capsys.readouterr()
    assert main(["hq", "perform", "--once", *args]) == 0
    assert "1 request performed (1 done)" in capsys.readouterr().out
    assert len(far.seen) == 2
    assert main(["hq", "export", "--table", "requests", "--format", "json", *args]) == 0
    (exported,) = json.loads(capsys.readouterr().out)
    assert (exported["state"], exported["status_code"], exported["releases"]) == (
        "done", 200, 1)


def _defaults():
    from sync.hq.perform import REQUESTS

    return REQUESTS.parse({})[0]


def test_refused_requests_are_released_together_once_their_host_is_allowed(
        database, storage, far, tmp_path, capsys):
    store(storage, posts(far.url, 3))
    closed = tmp_path / "closed"
    closed.mkdir()
    (closed / "hq.toml").write_text("")  # every default: no host allowed
    args = ["--db", database]
    assert main(["hq", "perform", "--once", *args, "-c", str(closed / "hq.toml")]) == 0
    assert "3 refused" in capsys.readouterr().out and far.seen == []
    assert main(["hq", "requests", "--json", *args, "-c", str(closed / "hq.toml")]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {r["state"] for r in listed} == {"refused"}
    assert "allowed_hosts" in listed[0]["error"]
    config = str(_config(tmp_path, far))
    # Options before the action count too ('hq requests -c F retry ...').
    assert main(["hq", "requests", *args, "-c", config, "retry", "--all", "refused"]) == 0
    assert main(["hq", "perform", "--once", *args, "-c", config]) == 0
    assert sorted(far.paths()) == ["/r/1", "/r/2", "/r/3"]


def test_a_request_a_box_queued_and_synced_twice_is_performed_once(hq, far, tmp_path):
    from tests.support import open_store

    box, _sim = open_store(tmp_path / "box")
    try:
        call = box.begin_call("sim", "p:" + "12" * 10, False, "needs", "1")
        box.queue_request(call, RequestInput("post", 1, "make-http-request", {
            "method": "POST", "url": f"{far.url}/hook", "content_type": "application/json",
            "body": '{"need": "water"}'}))
        box.end_call(call, "complete")
        ledger = ledger_for(box)
        batch = ledger.seal_next()
        sink = HqSink(hq.url + "/v1/batches", box.box_id, SECRET)
        assert drain(ledger, sink, wait=lambda s: False, max_wait_s=0).done
    finally:
        box.close()
    queue = RequestQueue(hq.storage)
    cfg = policy({**_defaults(), "allowed_hosts": [far.host]})
    assert Performer(queue, cfg, send).run_once().count("done") == 1
    # The same batch posted again (an acknowledgement lost on the way): stored as duplicate.
    again = HqSink(hq.url + "/v1/batches", "box-1", SECRET).send(batch)
    assert (again.kind, again.reason) == (ACK, "duplicate")
    assert Performer(queue, cfg, send).run_once().outcomes == {}
    (seen,) = far.seen
    assert (seen.path, seen.body) == ("/hook", b'{"need": "water"}')
    assert queue.rows()[0].request_id == f"{call}:request:post"


def test_the_fleet_page_counts_requests_by_state(storage, far):
    import requests as http

    from sync.hq import DevServer, HqSettings, make_app

    store(storage, posts(far.url, 2))
    queue = RequestQueue(storage)
    cfg = policy({**_defaults(), "allowed_hosts": [far.host]})
    Performer(queue, cfg, send).run_once(limit=1)
    far.answer = (500, "no")
    Performer(queue, cfg, send).run_once()
    server = DevServer(make_app(storage, HqSettings(fleet_password="pw-for-tests"))).start()
    try:
        page = http.get(server.url + "/fleet", auth=("x", "pw-for-tests"), timeout=10).text
    finally:
        server.stop()
    assert 'data-state="done">1 done' in page
    assert 'class="pill bad"\ndata-state="failed">1 failed' in page


def test_an_sms_a_box_queued_for_its_caller_reaches_the_number_only_with_callback_numbers(
        hq, tmp_path):
    """The whole path of docs/hq.md: a box whose caller asked to be called back queues an SMS
    to ``{{trigger.call.From}}`` (the caller's pseudonym in the record); with [sync]
    send_callback_numbers the batch brings the number and HQ texts it, once."""
    from edge.privacy import Pseudonymiser
    from sync._ledger import Ledger, connect
    from sync.codec import batch_encoder
    from tests.support import TwilioSyncStandIn, open_store

    number = "+255712345678"
    twilio = TwilioSyncStandIn(account_sid="AC" + "5" * 32, auth_token="tok")
    box, _sim = open_store(tmp_path / "box")
    try:
        caller = Pseudonymiser(b"k" * 32).pseudonym(number)
        call = box.begin_call("sip", caller, False, "needs", "1")
        box.request_callback(call, number)
        box.queue_request(call, RequestInput("sms", 1, "send-message",
                                             {"to": caller, "body": "Help is on its way"}))
        box.end_call(call, "complete")
        ledger = Ledger(connect(box.path), "hq", box.box_id, batch_encoder(box.box_id), 1000,
                        64 * 1024, callback_numbers=True)
        sink = HqSink(hq.url + "/v1/batches", box.box_id, SECRET)
        assert drain(ledger, sink, wait=lambda s: False, max_wait_s=0).done
        cfg = policy({**_defaults(), "twilio_account_sid": twilio.account_sid,
                      "twilio_auth_token": "tok", "twilio_base_url": twilio.url,
                      "sms_from": "+15550001111"})
        queue = RequestQueue(hq.storage)
        assert Performer(queue, cfg, send).run_once().count("done") == 1
        assert Performer(queue, cfg, send).run_once().outcomes == {}
        assert [m["fields"] for m in twilio.messages] == [
            {"To": number, "From": "+15550001111", "Body": "Help is on its way"}]
        assert number not in json.dumps(hq.storage.records("request"))  # the record: never
    finally:
        box.close()
        twilio.close()
