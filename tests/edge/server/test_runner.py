"""run_call: one call through engine, store and a line, with the durability order kept."""

from __future__ import annotations

import threading
from collections.abc import Callable

from edge.lines.simulated import HANGUP, CallerScript, SimulatedLine
from edge.privacy import Pseudonymiser
from edge.store import Store, StoreFull
from edge.survey import Survey

from .conftest_helpers import SPEED, answered_call


def test_complete_call_stores_every_answer(store: Store, line: SimulatedLine,
                                          demo_survey: Survey, pseudonymiser: Pseudonymiser,
                                          make_script: Callable) -> None:
    call, disposition = answered_call(line, make_script(), demo_survey, store, pseudonymiser)
    assert disposition == "complete"
    values = {r["question"]: r["value"] for r in store.query("SELECT question, value FROM answers")}
    assert values == {"language": "en", "consent": "yes", "household": "1", "need": "food",
                      "callback": "no"}
    row = store.query("SELECT caller, withheld, disposition, language FROM calls")[0]
    assert row["caller"] == pseudonymiser.pseudonym("+255700000001")
    assert row["disposition"] == "complete" and row["language"] == "en"
    assert call.ended_by == "box"


def test_remote_hang_up_mid_survey_is_partial(store: Store, line: SimulatedLine,
                                              demo_survey: Survey,
                                              pseudonymiser: Pseudonymiser,
                                              make_script: Callable) -> None:
    _call, disposition = answered_call(line, make_script(household=[HANGUP]), demo_survey,
                                       store, pseudonymiser)
    assert disposition == "partial"
    events = [r["kind"] for r in store.query("SELECT kind FROM events ORDER BY id")]
    assert "remote_hangup" in events


def test_caller_gone_before_answer_is_breakoff(store: Store, line: SimulatedLine,
                                               demo_survey: Survey,
                                               pseudonymiser: Pseudonymiser) -> None:
    script = CallerScript({}, hang_up_before_answer=True)
    _call, disposition = answered_call(line, script, demo_survey, store, pseudonymiser)
    assert disposition == "breakoff"


class FailingStore(Store):
    """Fails the Nth answer the way a full disk does."""

    fail_at = 3
    count = 0

    def record_answer(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.count += 1
        if self.count == self.fail_at:
            raise StoreFull("disk is full (test)")
        return super().record_answer(*args, **kwargs)


def test_an_answer_that_cannot_be_stored_stops_the_survey(tmp_path, line: SimulatedLine,
                                                          demo_survey: Survey,
                                                          pseudonymiser: Pseudonymiser,
                                                          make_script: Callable) -> None:
    store = FailingStore.open(tmp_path, box_id="t")
    call, disposition = answered_call(line, make_script(), demo_survey, store, pseudonymiser)
    assert disposition == "error"
    played = [u.key for _pid, us in call.played for u in us]
    # The household answer failed: no question after it was asked; the apology was played.
    assert "need.prompt" not in played and played[-1] == "message.error"
    assert store.query("SELECT count(*) AS n FROM answers")[0]["n"] == 2
    assert store.query("SELECT disposition FROM calls")[0]["disposition"] == "error"
    store.close()


def test_abort_hangs_up_and_records_partial(store: Store, line: SimulatedLine,
                                            demo_survey: Survey, pseudonymiser: Pseudonymiser,
                                            make_script: Callable) -> None:
    abort = threading.Event()
    # The caller goes silent at "need"; the box is told to stop meanwhile.
    threading.Timer(1.0, abort.set).start()
    call, disposition = answered_call(line, make_script(need=["", "", ""]), demo_survey, store,
                                      pseudonymiser, abort=abort, timer_scale=1.0)
    assert disposition == "partial"
    assert call.ended_by == "box"
    assert "shutdown" in [r["kind"] for r in store.query("SELECT kind FROM events")]
    assert SPEED > 1


def test_a_callback_request_keeps_the_number_only_there(store: Store, line: SimulatedLine,
                                                        demo_survey: Survey,
                                                        pseudonymiser: Pseudonymiser,
                                                        make_script: Callable) -> None:
    _call, disposition = answered_call(line, make_script(callback=["1"]), demo_survey, store,
                                       pseudonymiser)
    assert disposition == "complete"
    assert [r["number"] for r in store.query("SELECT number FROM outbound")] == ["+255700000001"]
    dump = "\n".join(store.db.conn.iterdump())
    assert dump.count("+255700000001") == 1  # nowhere else: not in calls, outbox or events
