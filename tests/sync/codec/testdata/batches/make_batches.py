"""How the golden batches beside this file were made (see README.md); not run by the tests.
From the repository root, with PYTHONPATH=. (the record sets use tests.support):

    make_batches.py records IN        the record sets -> IN/<name>.input.json (a store with
                                      a random epoch: other ids each time)
    make_batches.py encode IN OUT F   encode them with the codec on sys.path (format F)
    make_batches.py expect IN OUT     decode OUT's batches with this tree's codec
                                      -> OUT/<name>.json and OUT/manifest.json

``encode`` runs once per format, each time with that format's last encoder first on
PYTHONPATH (an old tree from ``git archive``); ``expect`` checks that every batch decodes to
the records it was made from.
"""

from __future__ import annotations

import importlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any


def _records(store: Any, start: int = 0) -> list[dict[str, Any]]:
    return [{"seq": r.seq, "id": r.record_id, "version": r.version, "kind": r.kind,
             "created_utc": r.created_utc, "body": r.data()}
            for r in store.reads.outbox_after(start, 10**6)]


def _iso(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def build_records(out: Path) -> None:
    from edge.clock import ClockCorrection
    from edge.privacy import Pseudonymiser
    from edge.records import AnswerInput
    from tests.support import fill_surveys, open_store

    out.mkdir(parents=True, exist_ok=True)

    def write(name: str, meta: dict[str, Any], records: list[dict[str, Any]],
              chain: list[str] | None = None) -> None:
        doc = {"meta": meta, "records": records, "after": chain or []}
        (out / f"{name}.input.json").write_text(json.dumps(doc, ensure_ascii=False))

    with tempfile.TemporaryDirectory() as tmp:
        # A field day: surveys, a withheld caller, unicode answers, a clock step, a callback.
        store, sim = open_store(Path(tmp) / "a", box_id="box-7")
        fill_surveys(store, sim, 8, seed=7)
        pseudo = Pseudonymiser(b"k" * 32)
        sim.advance(31.25)
        withheld = store.begin_call("modem", None, True, "demo", "3")
        for q, raw, value in (("language", "3", "ar"), ("consent", "1", "نعم"),
                              ("household", "12#", "12"), ("need", "5", "autre — ça va ✓")):
            sim.advance(4.017)
            store.record_answer(withheld, AnswerInput(q, raw, value, 1, 0, 0),
                                language="ar", survey_version="3",
                                sets_language=q == "language")
        sim.advance(2.5)
        store.end_call(withheld, "complete")
        store.record_clock_correction(ClockCorrection(
            "b00710a1-0000-4000-8000-000000000001", sim.mono, "2026-09-20T11:02:03.004Z",
            "2026-09-20T10:58:00.000Z", "ntp"))
        sim.advance(12.0)
        called = store.begin_call("sip", pseudo.pseudonym("+255712345678"), False, "demo", "3")
        sim.advance(3.0)
        store.record_answer(called, AnswerInput("callback", "1", "yes", 2, 1, 0),
                            language="en", survey_version="3", sets_language=False)
        store.request_callback(called, "+255712345678")
        sim.advance(1.5)
        store.end_call(called, "complete")
        records = _records(store)
        callbacks = store.reads.pending_callbacks()
        meta = {"box": "box-7", "batch": "box-7.e1.hq.1", "first": records[0]["seq"],
                "last": records[-1]["seq"]}
        write("field-day", meta, records)
        # The batch sealed after a callback was asked for: the pending one's raw number.
        last = records[-6:]
        write("callbacks", {"box": "box-7", "batch": "box-7.e1.hq.2", "first": last[0]["seq"],
                            "last": last[-1]["seq"], "callbacks": callbacks}, last)
        # A batch that starts in the middle of a call (its end without its start).
        cut = next(i for i, r in enumerate(records) if r["kind"] == "answer") + 3
        tail = records[cut:]
        write("mid-call", {"box": "box-7", "batch": "box-7.e1.hq.3", "first": tail[0]["seq"],
                           "last": tail[-1]["seq"]}, tail)
        store.close()

        store.close()
        # One encoder, three batches: the later ones apply the first one's plans.
        store2, sim2 = open_store(Path(tmp) / "c", box_id="box-3", fast=True)
        fill_surveys(store2, sim2, 20, seed=11)
        records = _records(store2)
        names: list[str] = []
        for i, part in enumerate((records[:100], records[100:170], records[170:])):
            name = f"chain-{i + 1}"
            write(name, {"box": "box-3", "batch": f"box-3.e3.hq.{i + 1}",
                         "first": part[0]["seq"], "last": part[-1]["seq"]}, part, list(names))
            names.append(name)
        store2.close()

    # Large groups (> 2 x 600 rows): plans searched on the first rows, applied to the rest;
    # the later rows of some columns no longer fit them (searched again).
    large = []
    for i in range(1300):
        late = i > 1000
        large.append({
            "seq": 5000 + i, "id": f"box-2.e2.{i // 10}/q{i % 10}" if not late else f"x-{i}",
            "version": 1, "kind": "answer",
            "created_utc": _iso(1_772_352_000_000 + i * 4_321 + i % 3),
            "body": {"q": f"q{i % 10}", "v": ["yes", "no"][i % 7 % 2] if not late else f"v{i % 3}",
                     "mono": round(5000 + i * 9.25, 3) if not late else i * 0.123457,
                     "n": i * 2 if not late else i * 2 + i % 7}})
    write("large-group", {"box": "box-2", "batch": "box-2.e2.hq.1", "first": 5000,
                          "last": 6299}, large)

    # Hand-built: floats of many spellings, odd ints, nested JSON, unicode, non-stamp times.
    odd = []
    floats = [0.5, 1.25, -0.0, 1e300, 0.1 + 0.2, 7.0, 123456.789012, -3.5, 2.0**60, 1e-7]
    for i in range(24):
        odd.append({
            "seq": 100 + 3 * i + i % 3, "id": f"odd.{i // 2}", "version": 1 + i % 2,
            "kind": "note" if i % 5 else "event",
            "created_utc": "yesterday" if i == 13 else f"2026-02-{1 + i:02d}T23:59:59.{i:03d}Z",
            "body": {
                "f": floats[i % len(floats)], "g": round(i * 0.1, 1), "big": 2**62 + i,
                "neg": -i * 1000, "flag": i % 2 == 0, "none": None if i % 4 else 0,
                "text": ["ndiyo", "لا", "数字", "emoji 🙂", "", "007"][i % 6],
                "nested": {"a": [1, 2, i]} if i % 3 else [i, "x"],
                "stamp": f"2026-02-01T00:00:{i:02d}.500Z" if i % 7 else "not a stamp",
            },
        })
    write("odd-values", {"box": "box-9", "batch": "box-9.e9.hq.1", "first": 100, "last": 171},
          odd)


def _codec() -> Any:
    """The codec of the tree ``sync`` comes from. (An editable install finds sync.codec in
    its own tree when an older tree on PYTHONPATH has none: checked by path.)"""
    import sync

    root = Path(sync.__file__).parent
    for name in ("sync.codec", "sync._codec"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if Path(module.__file__ or "").is_relative_to(root):
            return module
    raise SystemExit(f"no codec in {root}")


def encode(inputs: Path, out: Path, fmt: int) -> None:
    codec = _codec()
    assert fmt == codec.FORMAT_VERSION, codec.FORMAT_VERSION
    record, encode_batch = codec.Record, codec.encode_batch
    out.mkdir(parents=True, exist_ok=True)
    docs = {p.name.removesuffix(".input.json"): json.loads(p.read_text())
            for p in sorted(inputs.glob("*.input.json"))}
    for name, doc in docs.items():
        if fmt == 1 and (name.startswith("chain") or "callbacks" in doc["meta"]
                         or name == "large-group"):
            continue  # format 1 had no plans to carry and no callbacks
        for compression in ("xz", "gzip"):
            plans: dict[Any, Any] = {}
            kwargs = {"plans": plans} if fmt >= 2 else {}
            for earlier in doc["after"]:
                prev = docs[earlier]
                encode_batch(prev["meta"], [record(**r) for r in prev["records"]],
                             compression, **kwargs)
            data = encode_batch(doc["meta"], [record(**r) for r in doc["records"]],
                                compression, **kwargs)
            (out / f"{name}.v{fmt}.{compression}").write_bytes(data)
            print(name, fmt, compression, len(data))


def expect(inputs: Path, out: Path) -> None:
    decode_batch = _codec().decode_batch

    manifest = []
    for path in sorted(out.glob("*.v[12].*")):
        if path.suffix == ".json":
            continue
        name, fmt, compression = path.name.rsplit(".", 2)
        doc = json.loads((inputs / f"{name}.input.json").read_text())
        decoded = decode_batch(path.read_bytes())
        records = [r.as_dict() for r in decoded.pop("records")]
        assert records == doc["records"], name
        assert {k: v for k, v in decoded.items() if k != "v"} == doc["meta"], name
        expected = {**decoded, "records": records}
        text = json.dumps(expected, ensure_ascii=False, indent=None)
        # One record per line: reviewable in a diff, not one 300 KB line.
        head, _, _ = text.partition('"records": [')
        lines = [json.dumps(r, ensure_ascii=False) for r in records]
        body = head + '"records": [\n' + ",\n".join(lines) + "\n]}\n"
        assert json.loads(body) == expected
        target = out / f"{name}.json"
        if target.exists():
            assert target.read_text() == body, target
        target.write_text(body)
        manifest.append({"batch": path.name, "format": int(fmt[1:]), "compression": compression,
                         "expected": target.name,
                         "encoded_after": [f"{e}.{fmt}.{compression}" for e in doc["after"]]})
    manifest.sort(key=lambda m: (m["format"], m["batch"]))
    (out / "manifest.json").write_text(
        "[\n" + ",\n".join(json.dumps(m) for m in manifest) + "\n]\n")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "records":
        build_records(Path(sys.argv[2]))
    elif cmd == "encode":
        encode(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "expect":
        expect(Path(sys.argv[2]), Path(sys.argv[3]))
