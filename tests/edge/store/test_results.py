"""The store's results and request records: versioned results, requests with stable ids, each
in one transaction with the call's pending events."""

from __future__ import annotations

import json

from edge.records import AnswerInput, EventInput, RequestInput, ResultsInput
from edge.store import Store


def test_results_are_versioned_and_the_newest_is_kept(store: Store) -> None:
    call = store.begin_call("sim", "p:1", False, "s", "1")
    store.record_results(call, ResultsInput(1, {}, {"lang": "es"}), [EventInput("route")])
    store.record_answer(call, AnswerInput("q", "1#", "1", 1, 0, 0), "es", "1")
    store.record_results(call, ResultsInput(2, {"q": {"Digits": "1"}}, {"lang": "es"}))
    rows = store.query("SELECT record_id, version, kind, body FROM outbox WHERE kind = "
                       "'results' ORDER BY seq")
    assert [(r["record_id"], r["version"]) for r in rows] == [
        (f"{call}:results", 1), (f"{call}:results", 2)]
    body = json.loads(rows[-1]["body"])
    assert body["widgets"] == {"q": {"Digits": "1"}} and body["flow"] == {
        "variables": {"lang": "es"}}
    assert store.reads.call_results()[call]["widgets"] == {"q": {"Digits": "1"}}
    assert "route" in [r["kind"] for r in store.query("SELECT kind FROM events")]


def test_a_request_has_a_stable_id_per_state_and_visit(store: Store) -> None:
    call = store.begin_call("sim", "p:1", False, "s", "1")
    first = store.queue_request(call, RequestInput("post", 1, "make-http-request",
                                                   {"url": "https://example.org"}))
    again = store.queue_request(call, RequestInput("post", 2, "make-http-request",
                                                   {"url": "https://example.org"}))
    assert (first, again) == (f"{call}:request:post", f"{call}:request:post#2")
    rows = store.query("SELECT record_id, version, body FROM outbox WHERE kind = 'request'")
    assert [r["version"] for r in rows] == [1, 1]
    assert json.loads(rows[0]["body"])["request"] == {"url": "https://example.org"}
    events = store.query("SELECT kind, detail FROM events WHERE kind = 'request_queued'")
    assert len(events) == 2 and json.loads(events[0]["detail"]) == {
        "state": "post", "widget": "make-http-request"}
