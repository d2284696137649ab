"""``edgecall hq export``: what analysts use.

- ``calls`` (default): the box's own wide CSV (edge/export.py: one row per call, one column
  per question, the same column names and value forms), one per survey, or the box's
  nested JSON;
- ``jobs`` / ``attempts``: callbacks and campaign calls the boxes placed (docs/callbacks.md);
- ``callbacks``: raw numbers of pending callbacks, from boxes that send them;
- ``records``: every record with its body keys as columns (the raw feed);
- ``requests``: the requests boxes queued for HQ and what came of each (``sync.hq.perform``);
- ``audio``: one row per recorded answer with its file and link (``-o DIR`` copies the
  files beside the table).

A recorded answer's value in ``calls`` is the link to HQ's copy of the sound once HQ holds
it (what Studio's ``RecordingUrl`` is for a recording made online), else the box's
reference (``<call id>/<state>.wav``).

``--since`` and ``--box`` narrow each. Every text cell is neutralised against spreadsheet
formulas (``edge.export.safe_cell``)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from edge.export import calls_json, group_answers, merge_questions, safe_cell, wide_csv

from .storage import Storage

_ENVELOPE = ("id", "version", "box", "kind", "created_utc", "received_utc")
TABLES = ("calls", "jobs", "attempts", "callbacks", "records", "requests", "audio")
AUDIO_PAGE = "/audio/"


def _call_row(body: dict[str, Any]) -> dict[str, Any]:
    """A call record's body in the form of the box's ``calls_for_export`` row."""
    return {"call_id": body.get("id"), "line": body.get("line"), "caller": body.get("caller"),
            "withheld": 1 if body.get("withheld") else 0, "survey_id": body.get("survey"),
            "survey_version": body.get("survey_version"), "language": body.get("language"),
            "started_utc": body.get("started_utc"), "ended_utc": body.get("ended_utc"),
            "duration_s": body.get("duration_s"), "disposition": body.get("disposition"),
            "answered": body.get("answered"), "clock_quality": body.get("clock"),
            "boot_id": body.get("boot")}


def _answer_row(body: dict[str, Any]) -> dict[str, Any]:
    """An answer record's body in the form of the box's ``answers`` row."""
    return {"call_id": body.get("call"), "question": body.get("q"), "visit": body.get("visit"),
            "raw": body.get("raw"), "value": body.get("value"),
            "attempts": body.get("attempts"), "invalid": body.get("invalid"),
            "timeouts": body.get("timeouts"), "utc": body.get("utc"),
            "clock_quality": body.get("clock")}


def calls_by_survey(storage: Storage, since: str | None = None, box: str | None = None
                    ) -> dict[str, list[dict[str, Any]]]:
    """Calls (latest version) started at or after ``since``, by survey id, in start order."""
    calls = [_call_row(r["body"]) for r in storage.records("call", box=box)]
    calls = [c for c in calls if not since or (c["started_utc"] or "") >= since]
    calls.sort(key=lambda c: (c["started_utc"] or "", c["call_id"] or ""))
    out: dict[str, list[dict[str, Any]]] = {}
    for call in calls:
        out.setdefault(call["survey_id"] or "none", []).append(call)
    return out


def audio_links(storage: Storage, link_base: str | None, box: str | None = None
                ) -> dict[str, str]:
    """Recording reference -> link to HQ's whole copy (only those HQ holds)."""
    if not link_base:
        return {}
    return {f["reference"]: audio_link(link_base, f["path"])
            for f in storage.audio_files(box=box)}


def audio_link(link_base: str, relative: str) -> str:
    return link_base.rstrip("/") + AUDIO_PAGE + quote(relative)


def _answers(storage: Storage, box: str | None,  # type: ignore[no-untyped-def]
             links: dict[str, str] | None = None):
    # In the order each box stored them (box, seq): the latest visit of a question wins.
    rows = [_answer_row(r["body"]) for r in storage.records("answer", box=box)]
    for row in rows:  # a recorded answer's value: its reference, or the link to the sound
        if links and isinstance(row["value"], str) and row["value"] in links:
            row["value"] = links[row["value"]]
    return group_answers(rows), [a["question"] for a in rows]


def survey_questions(surveys_dir: Path | None, survey_id: str) -> list[str]:
    """The question order of a published survey (the current pack), else []."""
    if surveys_dir is None:
        return []
    try:
        manifest = json.loads((surveys_dir / "current.json").read_text(encoding="utf-8"))
        if manifest.get("id") != survey_id:
            return []
        from edge.survey import load_survey

        path = surveys_dir / survey_id / manifest["version"] / manifest["survey"]
        return load_survey(path).questions()
    except (OSError, ValueError, KeyError, TypeError):
        return []


def export_calls(storage: Storage, fmt: str, out: Path | None, survey: str | None = None,
                 since: str | None = None, box: str | None = None,
                 surveys_dir: Path | None = None, link_base: str | None = None
                 ) -> dict[str, int]:
    """The box's wide CSV (one file per survey) or its JSON; returns calls per survey.
    With several surveys and CSV, ``out`` is a directory (``<survey>.csv`` each).
    ``link_base``: HQ's address for people; recorded answers become links under it."""
    surveys = calls_by_survey(storage, since, box)
    if survey is not None:
        surveys = {survey: surveys.get(survey, [])}
    answers, asked = _answers(storage, box, audio_links(storage, link_base, box))
    if fmt == "json":
        calls = sorted((c for cs in surveys.values() for c in cs),
                       key=lambda c: (c["started_utc"] or "", c["call_id"] or ""))
        results = {r["body"].get("call"): r["body"] for r in storage.records("results", box=box)}
        _write(calls_json(calls, answers, results), out)
        return {k: len(v) for k, v in surveys.items()}
    if len(surveys) > 1 and (out is None or not out.is_dir()):
        raise ValueError(f"calls of {len(surveys)} surveys ({', '.join(sorted(surveys))}): "
                         "name one with --survey, or give a directory as --out")
    for survey_id, calls in surveys.items():
        ids = {c["call_id"] for c in calls}
        seen = [q for q in asked if q is not None]
        order = merge_questions(survey_questions(surveys_dir, survey_id),
                                dict.fromkeys(q for cid, qs in answers.items() if cid in ids
                                              for q in qs if q in seen))
        target = out / f"{survey_id}.csv" if out is not None and out.is_dir() else out
        _write(wide_csv(calls, answers, order), target)
    return {k: len(v) for k, v in surveys.items()}


def _flat(record: dict[str, Any]) -> dict[str, Any]:
    row = {k: record[k] for k in _ENVELOPE}
    for key, value in record["body"].items():
        if key != "id":
            row[key] = json.dumps(value) if isinstance(value, dict | list) else value
    return row


def _table_csv(rows: Sequence[dict[str, Any]], first: Sequence[str]) -> str:
    columns: list[str] = list(first)
    for row in rows:
        columns += [k for k in row if k not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writerow({c: safe_cell(c) for c in columns})
    writer.writerows({k: safe_cell(v) for k, v in row.items()} for row in rows)
    return buffer.getvalue()


def export_records(storage: Storage, fmt: str, out: Path | None, kind: str | None = None,
                   all_versions: bool = False, box: str | None = None,
                   since: str | None = None) -> int:
    """Records (latest version of each, unless ``all_versions``); returns how many."""
    records = storage.records(kind, all_versions, box, since)
    if fmt == "json":
        _write(json.dumps(records, ensure_ascii=False, indent=1) + "\n", out)
    elif fmt == "csv":
        _write(_table_csv([_flat(r) for r in records], _ENVELOPE), out)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return len(records)


def export_table(storage: Storage, table: str, fmt: str, out: Path | None,
                 since: str | None = None, box: str | None = None) -> int:
    """``jobs``, ``attempts`` (latest version of each, body keys as columns),
    ``callbacks`` or ``requests``; returns how many rows."""
    if table == "callbacks":
        rows: list[dict[str, Any]] = [c for c in storage.callbacks()
                                      if (not box or c["box"] == box)
                                      and (not since or c["requested_utc"] >= since)]
        first: Sequence[str] = ("box", "call", "requested_utc", "number")
    elif table == "requests":
        from .storage.request_queue import RequestQueue

        rows = [r.to_json() for r in RequestQueue(storage).rows(box=box, since_utc=since)]
        first = ("request_id", "box")
    else:
        kind = {"jobs": "job", "attempts": "attempt"}[table]
        rows = [{"box": r["box"], **r["body"]} for r in storage.records(kind, box=box)]
        stamp = "created_utc" if kind == "job" else "started_utc"
        rows = [r for r in rows if not since or (r.get(stamp) or "") >= since]
        first = ("id", "box")
    if fmt == "json":
        _write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", out)
    else:
        _write(_table_csv([{k: json.dumps(v) if isinstance(v, dict | list) else v
                            for k, v in r.items()} for r in rows], first), out)
    return len(rows)


AUDIO_COLUMNS = ("box", "reference", "call", "answer", "q", "seconds", "wav_bytes",
                 "wav_sha256", "at_hq", "format", "bytes", "sha256", "file", "link")


def export_audio(storage: Storage, fmt: str, out: Path | None, audio_dir: Path | None,
                 link_base: str | None, since: str | None = None, box: str | None = None
                 ) -> int:
    """One row per recorded answer a box reported (its ``audio`` record), with HQ's file
    when it holds it: ``file`` is its path (relative to ``out`` when ``out`` is a directory:
    the files are copied there, ``<box>/<call id>/<state>.opus``, and the table is
    ``audio.csv``/``audio.json`` in it) and ``link`` its address on HQ's recordings page."""
    held = {f["reference"]: f for f in storage.audio_files(box=box)}
    into = out if out is not None and out.is_dir() else None
    rows: list[dict[str, Any]] = []
    for record in storage.records("audio", box=box, since_utc=since):
        body = record["body"]
        stored = held.get(record["id"])
        row: dict[str, Any] = {
            "box": record["box"], "reference": record["id"], "call": body.get("call"),
            "answer": body.get("answer"), "q": body.get("q"), "seconds": body.get("seconds"),
            "wav_bytes": body.get("bytes"), "wav_sha256": body.get("sha256"),
            "at_hq": "yes" if stored else "no", "format": "", "bytes": "", "sha256": "",
            "file": "", "link": ""}
        if stored:
            row.update(format=stored["format"], bytes=stored["bytes"],
                       sha256=stored["sha256"])
            source = audio_dir / stored["path"] if audio_dir is not None else None
            if into is not None and source is not None and source.is_file():
                target = into / stored["path"]
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                row["file"] = stored["path"]
            elif source is not None:
                row["file"] = str(source)
            if link_base:
                row["link"] = audio_link(link_base, stored["path"])
        rows.append(row)
    target_file = into / f"audio.{fmt}" if into is not None else out
    if fmt == "json":
        _write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", target_file)
    else:
        _write(_table_csv(rows, AUDIO_COLUMNS), target_file)
    return len(rows)


def _write(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
        return
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
