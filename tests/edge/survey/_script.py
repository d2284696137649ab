"""The event words the survey cases (nodes/ and studio/ testdata) feed a Driver."""

from __future__ import annotations

from edge.survey.engine import Driver


def feed(driver: Driver, events: list[str]) -> None:
    """``key:<digits>``, ``end`` (the prompt ended), ``timeout``, ``hangup``,
    ``connect:<the line's transfer status>``, ``recording:<reason>[:<seconds>[:<key>]]``."""
    for event in events:
        if event.startswith("key:"):
            driver.key(event[4:])
        elif event == "end":
            driver.prompt_end()
        elif event == "timeout":
            driver.timeout()
        elif event == "hangup":
            driver.hang_up()
        elif event.startswith("connect:"):
            driver.connect_ended(event[8:])
        elif event.startswith("recording:"):
            parts = event.split(":")[1:]
            driver.recording_ended(parts[0], float(parts[1]) if len(parts) > 1 else 0.0,
                                   parts[2] if len(parts) > 2 else "")
        else:
            raise AssertionError(f"unknown event {event}")
