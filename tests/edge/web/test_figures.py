"""gather(): the figures match the database, per survey too; errors carry no numbers."""

from __future__ import annotations

from typing import Any

from edge.store import Store
from edge.web import gather, recent_errors, summarise_by_survey
from edge.web._figures import scrub

NUMBER = "+255712345678"


def test_figures_match_the_database(filled: Any, count: Any) -> None:
    figures = gather(filled.store, filled.clock, filled.lines, "t")
    want = count(filled.db_path)
    assert figures.today.calls == want["calls_today"]
    assert figures.week.calls == want["calls_week"]
    assert figures.today.calls < figures.week.calls  # the fixture spans days: filters matter
    assert figures.today.in_progress == want["in_progress_today"] == 1
    assert figures.today.dispositions == want["today"]
    assert figures.week.dispositions == want["week"]
    assert figures.backlog == want["backlog"] == filled.store.reads.backlog()
    assert {s.survey: s.week.calls for s in figures.surveys} == want["survey_week"]
    assert {s.survey: s.today.calls for s in figures.surveys} == want["survey_today"]


def test_completion_per_survey_leaves_out_busy_and_running_calls(filled: Any) -> None:
    figures = gather(filled.store, filled.clock, filled.lines, "t")
    water = next(s for s in figures.surveys if s.survey == "water")
    # today: complete + busy -> 1 of 1 finished; week adds a no-input -> 1 of 2
    assert water.today.completion == 1.0
    assert water.week.completion == 0.5
    demo = next(s for s in figures.surveys if s.survey == "demo")
    finished = sum(demo.today.dispositions.values())
    assert demo.today.completion == demo.today.dispositions["complete"] / finished


def test_by_survey_sums_to_the_totals(filled: Any) -> None:
    from edge.stats import day_and_week_starts, summarise

    _, week = day_and_week_starts()
    parts = summarise_by_survey(filled.store, week)
    total = summarise(filled.store, week)
    assert sum(p.calls for p in parts.values()) == total.calls
    merged: dict[str, int] = {}
    for part in parts.values():
        for name, n in part.dispositions.items():
            merged[name] = merged.get(name, 0) + n
    assert merged == total.dispositions


def test_lines_state_and_signal(filled: Any) -> None:
    figures = gather(filled.store, filled.clock, filled.lines, "t")
    by_name = {line.name: line for line in figures.lines}
    assert by_name["gsm0"].state == "degraded"
    assert (by_name["gsm0"].signal_dbm, by_name["gsm0"].signal) == (-101, "weak")
    assert by_name["sim"].kind == "simulated" and by_name["sim"].signal_dbm is None


def test_a_line_that_cannot_report_is_shown_not_fatal(filled: Any) -> None:
    class Broken:
        name = "broken"

        def status(self) -> Any:
            raise RuntimeError(f"port gone while talking to {NUMBER}")

    figures = gather(filled.store, filled.clock, (Broken(),), "t")
    assert figures.lines[0].state == "unknown"
    assert NUMBER not in str(figures.to_json())


def test_recent_errors_newest_first_without_numbers(filled: Any) -> None:
    errors = recent_errors(filled.store)
    whats = [e.what for e in errors]
    assert "call error" in whats and "store_error" in whats and "line_error" in whats
    assert [e.utc for e in errors] == sorted((e.utc for e in errors), reverse=True)
    text = str(errors)
    assert NUMBER not in text and NUMBER[1:] not in text
    assert any("disk I/O error" in e.detail for e in errors)


def test_clock_quality_now_and_on_the_newest_call(filled: Any) -> None:
    figures = gather(filled.store, filled.clock, filled.lines, "t")
    assert figures.clock_quality == filled.clock.now().quality
    newest = filled.store.query(
        "SELECT clock_quality FROM calls ORDER BY started_utc DESC LIMIT 1")[0]
    assert figures.last_call_clock_quality == newest["clock_quality"]


def test_plugin_status_lines_are_shown_and_a_failing_one_is_contained(filled: Any) -> None:
    def good(_store: Store) -> list[tuple[str, str]]:
        return [("sync hq last success", "2026-11-27T10:00:00.000Z")]

    def bad(_store: Store) -> list[tuple[str, str]]:
        raise RuntimeError("no table")

    figures = gather(filled.store, filled.clock, (), "t", [good, bad])
    assert ("sync hq last success", "2026-11-27T10:00:00.000Z") in figures.sync
    assert any(label == "plug-in error" and "no table" in value for label, value in figures.sync)


def test_empty_store(store: Store) -> None:
    from edge.clock import Clock

    figures = gather(store, Clock(), (), "t")
    assert (figures.today.calls, figures.week.calls, figures.backlog) == (0, 0, 0)
    assert figures.today.completion is None and figures.surveys == [] and figures.errors == []
    assert figures.last_call_clock_quality is None


def test_scrub_hides_numbers_but_keeps_dates_and_counts() -> None:
    assert scrub("from +255 712 345 678 now") == "from [number] now"
    assert scrub("caller 0712345678") == "caller [number]"
    assert scrub("at 2026-11-27T10:00:00.000Z, 12 records") == \
        "at 2026-11-27T10:00:00.000Z, 12 records"
