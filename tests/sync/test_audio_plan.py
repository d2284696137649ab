"""The recordings' upload plan as plain data: records first, oldest recording first, from
where HQ's copy stops, never past the day's budget."""

from __future__ import annotations

from sync._audio_plan import (
    BUDGET,
    DONE,
    RECORDS,
    REQUEST_OVERHEAD,
    DayBudget,
    Pending,
    Send,
    Wait,
    next_step,
)


def test_records_always_go_first() -> None:
    pending = [Pending("a", 10_000)]
    assert next_step(True, pending, DayBudget(10**6, "d"), 4096) == Wait(RECORDS)
    assert next_step(False, pending, DayBudget(10**6, "d"), 4096) == Send("a", 0, 4096)


def test_oldest_first_from_where_hq_stops() -> None:
    pending = [Pending("old", 5000, held=5000), Pending("next", 5000, held=1234),
               Pending("new", 100)]
    assert next_step(False, pending, DayBudget(10**6, "d"), 4096) == Send("next", 1234, 3766)


def test_nothing_left_is_done() -> None:
    assert next_step(False, [], DayBudget(10**6, "d"), 4096) == Wait(DONE)


def test_a_chunk_is_cut_to_the_budget_and_then_it_waits() -> None:
    budget = DayBudget(5000, "2026-12-01", used=2000)
    step = next_step(False, [Pending("a", 10_000)], budget, 4096)
    assert step == Send("a", 0, 3000 - REQUEST_OVERHEAD)
    assert isinstance(step, Send)
    spent = budget.spend(step.cost)
    assert spent.used == 5000 and spent.left() == 0
    assert next_step(False, [Pending("a", 10_000, step.length)], spent, 4096) == Wait(BUDGET)


def test_a_new_day_starts_from_nothing_spent() -> None:
    spent = DayBudget(5000, "2026-12-01", used=5000)
    assert spent.on("2026-12-01") is spent
    fresh = spent.on("2026-12-02")
    assert fresh.used == 0 and fresh.day == "2026-12-02"
    assert next_step(False, [Pending("a", 100)], fresh, 4096) == Send("a", 0, 100)


def test_a_budget_smaller_than_a_request_sends_nothing() -> None:
    assert next_step(False, [Pending("a", 100)], DayBudget(REQUEST_OVERHEAD, "d"), 4096) \
        == Wait(BUDGET)
