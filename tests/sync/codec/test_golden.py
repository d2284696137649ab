"""Golden batches: bytes sealed by earlier code must decode to what they held, and format-2
batches must come out byte for byte the same when their records are encoded again.

testdata/batches/manifest.json lists each batch file with its format, compression, the JSON
it decodes to, and the batches the same encoder sealed before it (their plans carry over).
How the files were made: testdata/batches/README.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sync.codec import FORMAT_VERSION, Record, decode_batch, encode_batch

BATCHES = Path(__file__).parent / "testdata" / "batches"
MANIFEST: list[dict[str, Any]] = json.loads((BATCHES / "manifest.json").read_text())


def _expected(name: str) -> dict[str, Any]:
    return json.loads((BATCHES / name).read_text(encoding="utf-8"))


def _as_json(decoded: dict[str, Any]) -> dict[str, Any]:
    return {**decoded, "records": [r.as_dict() for r in decoded["records"]]}


def _spelt(doc: dict[str, Any]) -> str:
    # Floats compared by their JSON spelling too (-0.0 is not 0.0, 1.0 is not 1).
    return json.dumps(doc, ensure_ascii=False, sort_keys=True)


@pytest.mark.parametrize("entry", MANIFEST, ids=[m["batch"] for m in MANIFEST])
def test_batch_decodes_to_its_json(entry: dict[str, Any]) -> None:
    decoded = _as_json(decode_batch((BATCHES / entry["batch"]).read_bytes()))
    assert _spelt(decoded) == _spelt(_expected(entry["expected"]))


def _encode_again(entry: dict[str, Any], plans: dict[Any, Any]) -> bytes:
    doc = _expected(entry["expected"])
    meta = {k: v for k, v in doc.items() if k not in ("v", "records")}
    records = [Record(**r) for r in doc["records"]]
    return encode_batch(meta, records, entry["compression"], plans)


CURRENT = [m for m in MANIFEST if m["format"] == FORMAT_VERSION]


@pytest.mark.parametrize("entry", CURRENT, ids=[m["batch"] for m in CURRENT])
def test_records_encode_to_the_same_bytes(entry: dict[str, Any]) -> None:
    by_name = {m["batch"]: m for m in MANIFEST}
    plans: dict[Any, Any] = {}  # one encoder: the earlier batches' plans carry over
    for earlier in entry["encoded_after"]:
        _encode_again(by_name[earlier], plans)
    data = _encode_again(entry, plans)
    assert data == (BATCHES / entry["batch"]).read_bytes()


def test_every_fixture_is_listed_and_both_formats_are_there() -> None:
    listed = {m["batch"] for m in MANIFEST} | {m["expected"] for m in MANIFEST}
    files = {p.name for p in BATCHES.iterdir() if p.suffix in (".xz", ".gzip", ".json")}
    assert files - {"manifest.json"} == listed
    assert {(m["format"], m["compression"]) for m in MANIFEST} == {
        (f, c) for f in (1, 2) for c in ("xz", "gzip")}
