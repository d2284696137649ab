"""Calling people back through a SIP line (issue #12): a Box with [outbound] on and a [sip]
line. A SIPp caller CANCELs while the box rings it (a missed call), the dispatcher calls the
same number back through the "gateway" (a SIPp phone that answers and presses the demo
survey's keys): the survey completes and the attempt says answered. A line with
``on_ring = "callback"`` declines with 486 and calls back the same way."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge.config import Config, parse_config
from edge.plugins import all_sections
from edge.server import Box
from hardware.sip import SECTION, SipLine

from .conftest import HOST, free_ports

NUMBER = "+255712345678"
EXPECTED = {"language": "en", "consent": "yes", "household": "1", "need": "food",
            "callback": "no"}


def _wait(condition: Callable[[], object], seconds: float = 40.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _config(tmp_path: Path) -> Config:
    raw = {"box": {"id": "t", "data_dir": str(tmp_path / "data")},
           "server": {"max_concurrent_calls": 2},
           "outbound": {"enabled": True, "check_interval_s": 1.0,
                        "calling_hours": "00:00-24:00", "ring_timeout_s": 15.0,
                        "reserve_inbound": 0}}
    config = parse_config(raw, "test", all_sections())
    return Config(config.path, config.sections, {"pseudonym_key": "ab" * 32})


class RingingLine(SipLine):
    """The real line, but a ringing call reaches the server only once its caller has given up
    (or after 5 s): the box answers at once, so a caller who hangs up while it rings is one
    whose CANCEL beat the answer; holding the ring makes that race certain, and the server
    then meets a call that is gone (``answer()`` raises CallGone)."""

    def start(self, on_call: Callable[[Any], None]) -> None:
        def held(call: Any) -> None:
            def later() -> None:
                deadline = time.monotonic() + 5
                while not call.hung_up_remotely and time.monotonic() < deadline:
                    time.sleep(0.02)
                on_call(call)

            threading.Thread(target=later, daemon=True).start()

        super().start(held)


def _box(tmp_path: Path, gateway_port: int, line_class: type[SipLine] = SipLine,
         **sip: Any) -> tuple[Box, SipLine]:
    from edge.lines import LineContext

    rtp = free_ports(40)
    settings, problems = SECTION.parse({
        "bind_address": HOST, "port": free_ports(1), "rtp_port_low": rtp,
        "rtp_port_high": rtp + 39, "gateway_address": HOST, "gateway_port": gateway_port, **sip})
    assert not problems, problems
    config = _config(tmp_path)
    line = line_class(settings, LineContext(data_dir=config.data_dir))
    box = Box(config, lines=[line], services=False)
    box.start()
    return box, line


def _answers(box: Box) -> dict[str, str]:
    return {r["question"]: r["value"]
            for r in box.store.query("SELECT question, value FROM answers")}


def test_a_caller_who_cancels_is_called_back_and_answers(tmp_path, sipp, tools):
    phone = sipp.start("uas_answer_keys.xml", None, timeout_s=60)  # the number, behind the GW
    box, line = _box(tmp_path, sipp.port, RingingLine)
    try:
        caller = sipp.start("uac_cancel.xml", line.port, timeout_s=30)
        store = box.store
        _wait(lambda: store.query("SELECT status FROM outbound") == [{"status": "done"}], 60)
        job = store.query("SELECT kind, number, attempts, last_outcome FROM outbound")[0]
        assert job == {"kind": "missed", "number": None, "attempts": 1,
                       "last_outcome": "answered"}
        attempts = store.query("SELECT outcome, call_id FROM outbound_attempts")
        assert len(attempts) == 1 and attempts[0]["outcome"] == "answered"
        calls = store.query("SELECT id, disposition, attempt FROM calls ORDER BY no")
        assert [c["disposition"] for c in calls] == ["breakoff", "complete"]
        assert calls[0]["attempt"] is None and calls[1]["attempt"] is not None
        assert attempts[0]["call_id"] == calls[1]["id"]
        events = [r["kind"] for r in store.query(
            "SELECT kind FROM events WHERE call_id = ?", (calls[0]["id"],))]
        assert "gone_before_answer" in events  # the server's answer() raised CallGone
        assert _answers(box) == EXPECTED
        assert sipp.wait(caller) == 0, sipp.errors()  # 200 for the CANCEL, 487, never a 200
        assert sipp.wait(phone) == 0, sipp.errors()  # ACK with the To-tag, our BYE
    finally:
        box.stop(grace_s=5)


def test_on_ring_callback_declines_with_486_then_calls_back(tmp_path, sipp):
    phone = sipp.start("uas_answer_keys.xml", None, timeout_s=60)
    box, line = _box(tmp_path, sipp.port, on_ring="callback")
    try:
        assert line.on_ring == "callback"
        caller = sipp.start("uac_declined.xml", line.port, timeout_s=30)
        store = box.store
        _wait(lambda: store.query("SELECT status FROM outbound") == [{"status": "done"}], 60)
        dispositions = [r["disposition"] for r in store.query(
            "SELECT disposition FROM calls ORDER BY no")]
        assert dispositions == ["breakoff", "complete"]
        assert _answers(box) == EXPECTED
        assert sipp.wait(caller) == 0, sipp.errors()
        assert sipp.wait(phone) == 0, sipp.errors()
    finally:
        box.stop(grace_s=5)
