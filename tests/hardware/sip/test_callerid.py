"""Caller id from From / P-Asserted-Identity / Remote-Party-ID, withheld numbers."""

from __future__ import annotations

import pytest

from edge.lines import CallerId
from hardware.sip._callerid import caller_id


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([("From", '"Ann" <sip:+255712345678@gw>;tag=1')], CallerId("+255712345678")),
        ([("From", "<sip:0712345678@10.0.0.1:5060>;tag=1")], CallerId("0712345678")),
        ([("From", "<sip:gw@10.0.0.1>;tag=1"),
          ("P-Asserted-Identity", "<sip:+255700000001@gw>")], CallerId("+255700000001")),
        ([("From", "<sip:gw@10.0.0.1>"), ("P-Asserted-Identity", '"x" <tel:+2557000002>')],
         CallerId("+2557000002")),
        ([("From", "<sip:gw@10.0.0.1>"),
          ("Remote-Party-ID", '"Bob" <sip:0755000003@gw>;party=calling;screen=yes')],
         CallerId("0755000003")),
        ([("From", '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=1')],
         CallerId(None, withheld=True)),
        ([("From", "<sip:+255712345678@gw>"), ("Privacy", "id")], CallerId(None, withheld=True)),
        ([("From", "<sip:+255712345678@gw>"),
          ("Remote-Party-ID", "<sip:+255712345678@gw>;privacy=full")],
         CallerId(None, withheld=True)),
        ([("From", "<sip:restricted@gw>")], CallerId(None, withheld=True)),
        ([("From", "<sip:%2B255712345678@gw>")], CallerId("+255712345678")),
        ([("From", "<sip:+255712345678@gw>"), ("Privacy", "none")], CallerId("+255712345678")),
        ([], CallerId(None, withheld=True)),
    ],
)
def test_caller_id(headers, expected):
    assert caller_id(headers) == expected
