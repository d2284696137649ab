"""Exports: a wide CSV (one row per call, one column per question) and nested JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from edge.store import Store

CALL_COLUMNS = ("call_id", "line", "caller", "withheld", "survey_id", "survey_version",
                "language", "started_utc", "ended_utc", "duration_s", "disposition", "answered",
                "clock_quality", "boot_id")


def _answers(store: Store) -> dict[str, dict[str, dict[str, Any]]]:
    """call id -> question -> its latest answer."""
    by_call: dict[str, dict[str, dict[str, Any]]] = {}
    for row in store.reads.answers():
        by_call.setdefault(row.pop("call_id"), {})[row["question"]] = row
    return by_call


def question_order(store: Store, preferred: Sequence[str] = ()) -> list[str]:
    seen = list(preferred)
    seen += [q for q in store.reads.questions() if q not in seen]
    return seen


def export_csv(store: Store, questions: Sequence[str] = ()) -> str:
    columns = question_order(store, questions)
    answers = _answers(store)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # A question named like a call column ("language") gets a prefix instead of a duplicate.
    writer.writerow([*CALL_COLUMNS, *(f"answer_{q}" if q in CALL_COLUMNS else q
                                      for q in columns)])
    for call in store.reads.calls_for_export():
        given = answers.get(call["call_id"], {})
        call["withheld"] = "yes" if call["withheld"] else "no"
        writer.writerow([*(call[c] if call[c] is not None else "" for c in CALL_COLUMNS),
                         *(given[q]["value"] if q in given else "" for q in columns)])
    return buffer.getvalue()


def export_json(store: Store) -> str:
    answers = _answers(store)
    results = store.reads.call_results()
    calls = []
    for call in store.reads.calls_for_export():
        call["withheld"] = bool(call["withheld"])
        call["answers"] = answers.get(call["call_id"], {})
        if call["call_id"] in results:  # flows with variables or cloud widgets (Studio's shape)
            found = results[call["call_id"]]
            call["results"] = {"widgets": found["widgets"], "flow": found["flow"]}
        calls.append(call)
    return json.dumps(calls, indent=2, ensure_ascii=False) + "\n"
