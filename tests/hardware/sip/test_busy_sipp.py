"""Callers the server turns away: 486 Busy Here, and a flood of them costs no thread each."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from edge.lines import LineContext
from edge.privacy import Pseudonymiser
from edge.server import CallServer, SurveySource
from edge.store import Store
from edge.survey import BUILTIN_DEMO

KEY = b"sip-test-pseudonym-key-0123456789"


def sip_line(tools: Any, data_dir: Path, **overrides: Any) -> Any:
    from hardware.sip import SECTION, SipLine

    rtp = tools.free_ports(600)
    settings, problems = SECTION.parse(
        {"bind_address": tools.HOST, "port": tools.free_ports(1), "rtp_port_low": rtp,
         "rtp_port_high": rtp + 599, **overrides})
    assert not problems, problems
    return SipLine(settings, LineContext(data_dir=data_dir))


def test_busy_caller_gets_486(sipp, make_line):
    line = make_line()
    proc = sipp.start("uac_busy_or_answer.xml", line.port)
    call = line.next_call()
    call.reject()
    assert sipp.wait(proc) == 0, sipp.errors()
    assert "486" in (sipp.workdir / next(p.name for p in sipp.workdir.iterdir()
                                          if p.name.endswith("_screen.log"))).read_text()
    assert line.line.phone.calls == {}


def test_a_flood_of_invites_is_answered_with_few_threads(sipp, tools, tmp_path):
    store = Store.open(tmp_path / "data", box_id="t")
    line = sip_line(tools, tmp_path / "data")
    server = CallServer(store, SurveySource(BUILTIN_DEMO, tmp_path / "data"), [line],
                        Pseudonymiser(KEY), max_concurrent_calls=2, when_busy="reject")
    server.start()
    try:
        time.sleep(0.2)
        before = threading.active_count()
        peak = [before]
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.is_set():
                peak[0] = max(peak[0], threading.active_count())
                time.sleep(0.002)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        proc = sipp.start("uac_busy_or_answer.xml", line.port, calls=500, rate=500, limit=500,
                          timeout_s=60)
        code = sipp.wait(proc, timeout=70)
        sampling.set()
        sampler.join()
        assert code == 0, sipp.errors()  # every caller got 486 or 200 (never silence)
        # The SIP and RTP threads, the dispatcher, the server's busy threads, its two call
        # workers and this test's sampler: not a thread per caller.
        assert peak[0] - before <= 6, (before, peak[0])
        deadline = time.monotonic() + 20
        while sum(server.dispositions.values()) < 500 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.dispositions.get("busy", 0) >= 490, server.dispositions
    finally:
        server.stop(grace_s=5)
        line.shutdown()
        store.close()
