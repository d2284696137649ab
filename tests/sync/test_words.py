"""Sync failures read as words ("cannot connect to HQ 127.0.0.1:8750: connection refused"),
never as an exception's text cut in the middle."""

from __future__ import annotations

import socket

import requests

from sync._words import short, transport_words


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _failure(url: str, **kw: object) -> BaseException:
    try:
        requests.post(url, data=b"x", timeout=kw.pop("timeout", 3))  # type: ignore[arg-type]
    except requests.RequestException as exc:
        return exc
    raise AssertionError("no failure")


def test_refused():
    port = _closed_port()
    words = transport_words(_failure(f"http://127.0.0.1:{port}/v1/batches"))
    assert words == f"cannot connect to HQ 127.0.0.1:{port}: connection refused (is it running?)"


def test_dns():
    words = transport_words(_failure("http://no-such-host.invalid/v1/batches"))
    assert words == "cannot find no-such-host.invalid in DNS: is the link up?"


def test_read_timeout():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        words = transport_words(_failure(f"http://127.0.0.1:{port}/x", timeout=0.3))
    assert words == f"HQ 127.0.0.1:{port} did not answer in time (read timeout)"


def test_long_texts_are_cut_at_a_word():
    text = short("word " * 100)
    assert len(text) <= 162 and text.endswith("word …")
