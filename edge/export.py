"""Exports: a wide CSV (one row per call, one column per question) and nested JSON.

The forms are built from plain rows (a call as ``StoreReads.calls_for_export`` gives it, an
answer as ``StoreReads.answers``), so that HQ writes the very same columns and values from
what boxes sent it (sync/hq/_export.py)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from edge.store import Store

CALL_COLUMNS = ("call_id", "line", "caller", "withheld", "survey_id", "survey_version",
                "language", "started_utc", "ended_utc", "duration_s", "disposition", "answered",
                "clock_quality", "boot_id")

Answers = dict[str, dict[str, dict[str, Any]]]  # call id -> question -> its latest answer

# A cell a spreadsheet would run: =HYPERLINK(...), +cmd, -1+1, @SUM, or a tab/CR trick.
_FORMULA = re.compile(r"^[=+\-@\t\r]")
_NUMBER = re.compile(r"^[+-]?[0-9][0-9 .]*$")  # "-3", "+2557...": data, not formulas


def safe_cell(value: Any) -> Any:
    """A text a spreadsheet would take for a formula gets a leading apostrophe (OWASP's
    advice for CSV injection); numbers and plain signed numbers are left as they are."""
    if isinstance(value, str) and _FORMULA.match(value) and not _NUMBER.match(value):
        return "'" + value
    return value


def group_answers(rows: Iterable[dict[str, Any]]) -> Answers:
    """Answer rows in the order they were given -> call id -> question -> latest answer."""
    by_call: Answers = {}
    for row in rows:
        row = dict(row)
        by_call.setdefault(row.pop("call_id"), {})[row["question"]] = row
    return by_call


def _answers(store: Store) -> Answers:
    return group_answers(store.reads.answers())


def question_order(store: Store, preferred: Sequence[str] = ()) -> list[str]:
    return merge_questions(preferred, store.reads.questions())


def merge_questions(preferred: Sequence[str], seen: Iterable[str]) -> list[str]:
    order = list(preferred)
    order += [q for q in seen if q not in order]
    return order


def wide_csv(calls: Iterable[Mapping[str, Any]], answers: Answers,
             questions: Sequence[str]) -> str:
    """One row per call, one column per question (its latest answer's value)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # A question named like a call column ("language") gets a prefix instead of a duplicate.
    writer.writerow([*CALL_COLUMNS, *(safe_cell(f"answer_{q}" if q in CALL_COLUMNS else q)
                                      for q in questions)])
    for call in calls:
        given = answers.get(call["call_id"], {})
        row = dict(call)
        row["withheld"] = "yes" if row["withheld"] else "no"
        writer.writerow([*(safe_cell(row[c]) if row[c] is not None else "" for c in CALL_COLUMNS),
                         *(safe_cell(given[q]["value"]) if q in given else "" for q in questions)])
    return buffer.getvalue()


def calls_json(calls: Iterable[Mapping[str, Any]], answers: Answers,
               results: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """Each call with its answers (and its Studio-shaped results, where a flow has them)."""
    out = []
    for call in calls:
        row = dict(call)
        row["withheld"] = bool(row["withheld"])
        row["answers"] = answers.get(row["call_id"], {})
        found = (results or {}).get(row["call_id"])
        if found is not None:  # flows with variables or cloud widgets (Studio's shape)
            row["results"] = {"widgets": found["widgets"], "flow": found["flow"]}
        out.append(row)
    return json.dumps(out, indent=2, ensure_ascii=False) + "\n"


def export_csv(store: Store, questions: Sequence[str] = ()) -> str:
    return wide_csv(store.reads.calls_for_export(), _answers(store),
                    question_order(store, questions))


def export_json(store: Store) -> str:
    return calls_json(store.reads.calls_for_export(), _answers(store),
                      store.reads.call_results())
