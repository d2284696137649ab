"""run_call with a Studio-shaped survey: variables are committed before the next prompt plays,
trigger.call.From is the caller's number while the call lasts and the pseudonym once stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from edge.lines.simulated import CallerScript, SimulatedLine
from edge.privacy import Pseudonymiser
from edge.store import Store
from edge.survey import load_survey

from .conftest_helpers import answered_call

SURVEY = {
    "id": "vars", "version": "1", "languages": ["en"],
    "states": [
        {"name": "who", "type": "set", "variables": [
            {"key": "caller", "value": "{{trigger.call.From}}"},
            {"key": "sid", "value": "{{trigger.call.CallSid}}"}]},
        {"name": "read", "type": "say",
         "prompt": {"en": "Your number is {{flow.variables.caller}}."}},
        {"name": "q", "type": "yesno", "prompt": {"en": "OK?"}},
        {"name": "bye", "type": "end", "prompt": {"en": "Bye."}},
    ],
}


class OrderStore(Store):
    """Remembers what was committed when, against what the line played."""

    log: list[str]

    def record_results(self, *args: Any, **kwargs: Any) -> str:
        self.log.append("results")
        return super().record_results(*args, **kwargs)


def test_variables_commit_before_the_next_prompt_and_store_the_pseudonym(
        tmp_path: Path, line: SimulatedLine, pseudonymiser: Pseudonymiser) -> None:
    path = tmp_path / "survey.json"
    path.write_text(json.dumps(SURVEY), encoding="utf-8")
    store = OrderStore.open(tmp_path / "data", box_id="t")
    store.log = []
    script = CallerScript({"q.prompt": ["1"]}, key_delay_s=0.2)
    call, disposition = answered_call(line, script, load_survey(path), store, pseudonymiser)
    assert disposition == "complete"
    first_play = call.played[0][1][0]
    assert first_play.text == "Your number is +255700000001."  # rendered during the call
    assert store.log == ["results", "results"]  # after the set, and the final version
    results = store.reads.call_results()
    (call_id, body), = results.items()
    assert body["flow"]["variables"] == {"caller": pseudonymiser.pseudonym("+255700000001"),
                                         "sid": call_id}
    stored = json.dumps(store.query("SELECT * FROM outbox")) + json.dumps(
        store.query("SELECT * FROM events"))
    assert "+255700000001" not in stored and "255700000001" not in stored
    # The first results version was committed before the first prompt started playing.
    seqs = store.query("SELECT kind, version FROM outbox ORDER BY seq")
    assert [(r["kind"], r["version"]) for r in seqs][:2] == [("call", 1), ("results", 1)]
    store.close()
