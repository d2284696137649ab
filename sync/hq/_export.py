"""``edgecall hq export``: HQ's records as JSON or CSV (body keys become columns)."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

from ._db import HqDb

_ENVELOPE = ("id", "version", "box", "kind", "created_utc", "received_utc")


def _flat(record: dict[str, Any]) -> dict[str, Any]:
    row = {k: record[k] for k in _ENVELOPE}
    for key, value in record["body"].items():
        if key != "id":
            row[key] = json.dumps(value) if isinstance(value, dict | list) else value
    return row


def export_records(db: HqDb, fmt: str, out: Path | None, kind: str | None = None,
                   all_versions: bool = False) -> int:
    """Write records (latest version of each, unless ``all_versions``); returns how many."""
    records = db.records(kind, all_versions)
    if fmt == "json":
        text = json.dumps(records, ensure_ascii=False, indent=1) + "\n"
    elif fmt == "csv":
        rows = [_flat(r) for r in records]
        columns: list[str] = list(_ENVELOPE)
        for row in rows:
            columns += [k for k in row if k not in columns]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = buffer.getvalue()
    else:
        raise ValueError(f"unknown format {fmt!r}")
    if out is None:
        sys.stdout.write(text)
    else:
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
    return len(records)
