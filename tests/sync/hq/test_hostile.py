"""Hostile boxes against ``edgecall hq serve`` (gunicorn, real HTTP on 127.0.0.1), issue #16.
Each test is one attack the reference receiver used to fall to: records of another box,
batches that cost gigabytes to decode, headers that crashed the handler, bodies read before
the box was known, connections and threads without bound, survey packs for anyone."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from sync._signing import signed_get
from sync.hq import open_storage

from .hostile import (
    SECRETS,
    ServeProcess,
    batch_bytes,
    call_group,
    raw,
    request_head,
    signed_headers,
)

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="module", params=BACKENDS)
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[ServeProcess, str]]:
    folder = tmp_path_factory.mktemp("hostile")
    if request.param == "sqlite":
        database = str(folder / "hq.db")
    else:
        database = request.getfixturevalue("pg_cluster").url()
    storage = open_storage(database)
    for box, secret in SECRETS.items():
        storage.add_box(box, secret, "2000-01-01T00:00:00.000Z")
    storage.close()
    packs = folder / "packs"
    (packs / "demo" / "1").mkdir(parents=True)
    (packs / "demo" / "1" / "survey.json").write_text("{}")
    (packs / "current.json").write_text(json.dumps({"id": "demo", "version": "1",
                                                    "survey": "survey.json", "files": []}))
    config = folder / "hq.toml"
    config.write_text(f'[hq]\ndatabase = "{database}"\nworkers = 2\nthreads = 4\n'
                      f'surveys = "{packs}"\n[limits]\nbody_timeout_s = 2.0\n')
    server = ServeProcess(config)
    yield server, database
    server.stop()


def _post(server: ServeProcess, box: str, batch_id: str, body: bytes, **kw: object
          ) -> requests.Response:
    return requests.post(server.url + "/v1/batches", data=body,
                         headers=signed_headers(box, batch_id, body, **kw), timeout=30)


def _count(database: str) -> int:
    storage = open_storage(database)
    try:
        return storage.count()
    finally:
        storage.close()


# -- records belong to the box that owns their id prefix -----------------------------------
def test_a_box_cannot_overwrite_or_preempt_another_boxs_records(served):
    server, database = served
    # box-1 stores its call; box-2 (a valid key) sends a record under box-1's id, and one
    # box-1 has not sent yet (pre-emption): both refused, box-1's record stays its own.
    own = batch_bytes("box-1", "box-1.e.hq.1", [call_group(["box-1.e.1"])], 1)
    assert _post(server, "box-1", "box-1.e.hq.1", own).json()["status"] == "stored"
    before = _count(database)
    for ids in (["box-1.e.1"], ["box-1.e.2"], ["box-2.e.1", "box-1.e.3"]):
        forged = batch_bytes("box-2", "box-2.e.hq.9", [call_group(ids)], len(ids))
        response = _post(server, "box-2", "box-2.e.hq.9", forged)
        assert response.status_code == 422, response.text
        assert response.json()["error"] == "foreign-records"
    # A batch id of another box is refused too (its SHA-256 would answer box-1's resume).
    forged = batch_bytes("box-2", "box-1.e.hq.2", [call_group(["box-2.e.5"])], 1)
    assert _post(server, "box-2", "box-1.e.hq.2", forged).status_code == 422
    assert _count(database) == before


def test_answers_cannot_point_at_another_boxs_call(served):
    server, _ = served
    group = {"k": "answer", "n": 1, "c": [
        ["@seq", ["c", 1]], ["@id", ["c", "box-2.e.7/q"]], ["@v", ["c", 1]],
        ["@t", ["c", "2026-01-01T00:00:00.000Z"]], ["call", ["c", "box-1.e.1"]]]}
    body = batch_bytes("box-2", "box-2.e.hq.10", [group], 1)
    assert _post(server, "box-2", "box-2.e.hq.10", body).status_code == 422


# -- limits before work ------------------------------------------------------------------
@pytest.mark.parametrize("rows", [2_000_000, 300_000_000])
def test_a_tiny_batch_claiming_millions_of_rows_is_refused_at_once(served, rows):
    server, _ = served
    group = call_group(["box-2.e.1"])
    group["n"] = rows
    group["c"][0] = ["@seq", ["c", 1]]
    group["c"][1] = ["@id", ["c", "box-2.e.1"]]
    body = batch_bytes("box-2", f"box-2.e.hq.r{rows}", [group], rows)
    assert len(body) < 400
    rss = server.rss_mb()
    started = time.monotonic()
    response = _post(server, "box-2", f"box-2.e.hq.r{rows}", body)
    assert response.status_code == 400 and "rows" in response.json()["detail"]
    assert time.monotonic() - started < 5
    assert server.rss_mb() < rss + 50  # before: 1 GB for 2,000,000 rows


def test_a_small_batch_that_decodes_to_a_huge_string_is_refused(served):
    server, database = served
    # Each column doubles the one before it (a suffix form whose rest is the column itself):
    # 30 columns of a 1,000-character start would make a 10^12-character string.
    columns = [["a0", ["c", "x" * 1000]]]
    for i in range(1, 30):
        prev = f"a{i - 1}"
        columns.append([f"a{i}", ["s", prev, ["p", prev, ["c", 10**9]]]])
    group = call_group(["box-2.e.20"], columns)
    body = batch_bytes("box-2", "box-2.e.hq.20", [group], 1)
    assert len(body) < 8000
    before = _count(database)
    response = _post(server, "box-2", "box-2.e.hq.20", body)
    assert response.status_code in (400, 413), response.text
    assert _count(database) == before  # before: a 48 MB string stored


def test_one_record_over_the_size_limit_is_refused(served):
    server, _ = served
    group = call_group(["box-2.e.21"], [["note", ["c", "y" * 100_000]]])
    body = batch_bytes("box-2", "box-2.e.hq.21", [group], 1)
    response = _post(server, "box-2", "box-2.e.hq.21", body)
    assert response.status_code == 413 and response.json()["error"] == "too-large"


def test_deep_json_and_huge_numbers_get_a_4xx_not_a_dropped_connection(served):
    server, _ = served
    deep = b'{"v":2,"box":"box-2","batch":"box-2.e.hq.30","g":' + b"[" * 100_000 + \
        b"]" * 100_000 + b"}"
    cases = [
        ("box-2.e.hq.30", batch_bytes("box-2", "box-2.e.hq.30", [], 0, header_text=deep)),
        ("box-2.e.hq.31", batch_bytes("box-2", "box-2.e.hq.31",
                                      [call_group(["box-2.e.31"], [["big", ["j", [10**30]]]])],
                                      1)),
        ("box-2.e.hq.32", batch_bytes("box-2", "box-2.e.hq.32",
                                      [call_group(["box-2.e.32"],
                                                  [["f", ["f", 10**9, ["c", 1]]]])], 1)),
        ("box-2.e.hq.33", batch_bytes("box-2", "box-2.e.hq.33",
                                      [call_group(["box-2.e.33"], [["t", ["t", ["c", 10**25]]]])],
                                      1)),
        ("box-2.e.hq.34", batch_bytes("box-2", "box-2.e.hq.34",
                                      [call_group(["box-2.e.34"], [["u", ["u", 0, 1]]])], 1,
                                      binary=b"\xff" * 200_000)),
    ]
    for batch_id, body in cases:
        started = time.monotonic()
        response = _post(server, "box-2", batch_id, body)
        assert 400 <= response.status_code < 500, (batch_id, response.status_code)
        assert time.monotonic() - started < 5, batch_id


@pytest.mark.parametrize("header", ["Content-Length", "X-Edgecall-Timestamp",
                                    "X-Edgecall-Offset"])
def test_a_malformed_header_gets_a_4xx(served, header):
    server, _ = served
    body = batch_bytes("box-2", "box-2.e.hq.40", [call_group(["box-2.e.40"])], 1)
    headers = signed_headers("box-2", "box-2.e.hq.40", body)
    headers[header] = "1²"  # "²".isdigit() is True; int("²") raises ValueError
    status, _headers, _body, _took = raw(server.port,
                                         request_head("POST", "/v1/batches", headers), body)
    assert 400 <= status < 500, status  # before: the connection dropped (ValueError)


# -- the box is authenticated before the body is read ------------------------------------
@pytest.mark.parametrize("who", ["unknown-box", "wrong-key"])
def test_no_body_is_read_before_the_box_is_authenticated(served, who):
    server, _ = served
    box, secret = ("box-9", "x" * 22) if who == "unknown-box" else ("box-2", "wrong" * 5)
    headers = signed_headers(box, f"{box}.e.hq.1", b"", secret=secret, length=4 * 1024 * 1024)
    # Headers announcing 4 MiB, and not one byte of body: the answer comes at once.
    status, _h, body, took = raw(server.port, request_head("POST", "/v1/batches", headers))
    assert status == 401 and took < 2, (status, took)
    assert json.loads(body)["error"] in ("unknown-box", "bad-signature")


def test_forty_unauthenticated_uploads_cost_no_memory(served):
    server, _ = served
    rss = server.rss_mb()
    payload = b"z" * (4 * 1024 * 1024 - 1)

    def upload() -> None:
        headers = signed_headers("box-2", "box-2.e.hq.50", payload, secret="wrong" * 5)
        # The server may close while we still send: it did not take the body.
        with contextlib.suppress(requests.RequestException):
            requests.post(server.url + "/v1/batches", data=payload, headers=headers,
                          timeout=30)

    threads = [threading.Thread(target=upload) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert server.rss_mb() < rss + 40  # before: 227 MB


def test_a_stalled_body_is_cut_by_the_read_timeout(served):
    server, _ = served
    body = batch_bytes("box-2", "box-2.e.hq.60", [call_group(["box-2.e.60"])], 1)
    headers = signed_headers("box-2", "box-2.e.hq.60", body)
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(request_head("POST", "/v1/batches", headers) + body[:10])
        try:
            while sock.recv(4096):  # the answer, then the end of the connection
                pass
        except ConnectionResetError:
            pass
    assert time.monotonic() - started < 15  # [limits] body_timeout_s = 2 (+ the worker's)


def test_idle_connections_hold_no_threads(served):
    server, _ = served
    threads = server.threads()
    idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(400)]
    try:
        time.sleep(1.0)
        started = time.monotonic()
        assert requests.get(server.url + "/v1/health", timeout=10).status_code == 200
        assert time.monotonic() - started < 3
        assert server.threads() <= threads + 4  # before: one thread per connection
    finally:
        for sock in idle:
            sock.close()


# -- survey packs only to authenticated boxes ---------------------------------------------
def test_survey_packs_only_to_authenticated_boxes(served):
    server, _ = served
    for path in ("/v1/surveys/current.json", "/v1/surveys/demo/1/survey.json"):
        unsigned = requests.get(server.url + path, headers={"X-Edgecall-Box": "box-1"},
                                timeout=10)
        assert unsigned.status_code in (400, 401)
        forged = requests.get(server.url + path, timeout=10, headers=signed_get(
            b"not-the-key-of-box-1", int(time.time() * 1000), "box-1", path))
        assert forged.status_code == 401
        good = requests.get(server.url + path, timeout=10, headers=signed_get(
            SECRETS["box-1"].encode(), int(time.time() * 1000), "box-1", path))
        assert good.status_code == 200


def test_serve_logs_one_line_per_batch(tmp_path):
    database = str(tmp_path / "hq.db")
    storage = open_storage(database)
    storage.add_box("box-2", SECRETS["box-2"], "2000-01-01T00:00:00.000Z")
    storage.close()
    config = tmp_path / "hq.toml"
    config.write_text(f'[hq]\ndatabase = "{database}"\nworkers = 1\n')
    server = ServeProcess(config)
    try:
        body = batch_bytes("box-2", "box-2.e.hq.70", [call_group(["box-2.e.70"])], 1)
        assert _post(server, "box-2", "box-2.e.hq.70", body).status_code == 200
        foreign = batch_bytes("box-2", "box-2.e.hq.71", [call_group(["box-1.e.70"])], 1)
        assert _post(server, "box-2", "box-2.e.hq.71", foreign).status_code == 422
    finally:
        log = server.stop()
    lines = [line for line in log.splitlines() if "batch box=" in line]
    assert len(lines) == 2, log
    assert "box=box-2 batch=box-2.e.hq.70 records=1 new=1 result=stored" in lines[0]
    assert "batch=box-2.e.hq.71" in lines[1] and "result=foreign-records" in lines[1]
