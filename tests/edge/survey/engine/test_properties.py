"""Property: whatever a caller does — keys, silences, prompts ending, hanging up — a session
ends with exactly one disposition, never raises, and never calls a dropped call complete."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from edge.store import DISPOSITIONS
from edge.survey import BUILTIN_DEMO, load_survey
from edge.survey.engine import Driver, End, RecordAnswer, Session

DEMO = load_survey(BUILTIN_DEMO)

steps = st.lists(
    st.one_of(
        st.sampled_from("0123456789*#AD"),
        st.sampled_from(["end", "timeout", "hangup", "bogus-end", "bogus-timeout"]),
    ),
    max_size=80,
)


def run(driver: Driver, sequence: list[str]) -> None:
    for step in sequence:
        if step == "end":
            driver.prompt_end()
        elif step == "timeout":
            driver.timeout()
        elif step == "hangup":
            driver.hang_up()
        elif step == "bogus-end":  # a stale or unknown prompt id
            driver._take(driver.session.feed(__import__(
                "edge.survey.engine", fromlist=["PromptEnded"]).PromptEnded(-1)))
        elif step == "bogus-timeout":
            driver._take(driver.session.feed(__import__(
                "edge.survey.engine", fromlist=["Timeout"]).Timeout(-1)))
        else:
            driver.key(step)


@settings(max_examples=400, deadline=None)
@given(steps)
def test_any_sequence_ends_in_exactly_one_disposition(sequence: list[str]) -> None:
    driver = Driver(Session(DEMO))
    run(driver, sequence)
    # Whatever happened, the caller finally hangs up (or the call already ended).
    driver.hang_up()
    ends = [a for a in driver.actions if isinstance(a, End)]
    assert len(ends) == 1
    disposition = ends[0].disposition
    assert disposition in DISPOSITIONS and disposition != "error"
    assert driver.session.disposition == disposition
    if disposition == "complete":
        # Complete only when the closing state was reached.
        assert driver.session.state_name == "thanks"
    if any(isinstance(a, RecordAnswer) and not a.sets_language for a in driver.actions) and (
        disposition in ("breakoff",)
    ):
        raise AssertionError("a caller who answered cannot be a breakoff")


@settings(max_examples=200, deadline=None)
@given(steps)
def test_a_hang_up_before_the_end_is_never_complete(sequence: list[str]) -> None:
    driver = Driver(Session(DEMO))
    run(driver, [s for s in sequence if s != "hangup"])
    reached_end = driver.session.state_name in ("thanks", "declined")
    driver.hang_up()
    if not reached_end:
        assert driver.session.disposition != "complete"


def _hotline():  # type: ignore[no-untyped-def]
    import json
    from pathlib import Path

    from edge.survey import compile_survey
    from edge.survey.studio import ImportOptions, import_flow

    flow = json.loads((Path(__file__).parents[1] / "testdata" / "studio_hotline.json")
                      .read_text(encoding="utf-8"))
    imported = import_flow(flow, ImportOptions(offline={"make-http-request": "queue"}))
    survey, _problems = compile_survey(imported.survey, None)
    return survey


HOTLINE = _hotline()


@settings(max_examples=200, deadline=None)
@given(steps)
def test_an_imported_studio_flow_also_ends_once_and_never_in_error(sequence: list[str]) -> None:
    """Variables, splits on them, cloud widgets on their offline paths and loops on silence:
    still exactly one disposition, and never an engine fault."""
    from edge.survey.engine import CallInfo, Note

    driver = Driver(Session(HOTLINE, call=CallInfo("+254711000001", None, "c", "p:x")))
    run(driver, sequence)
    driver.hang_up()
    ends = [a for a in driver.actions if isinstance(a, End)]
    assert len(ends) == 1 and ends[0].disposition != "error"
    assert not [a for a in driver.actions if isinstance(a, Note) and a.kind == "engine_error"]
