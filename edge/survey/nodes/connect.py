"""connect: Studio's connect-call-to (bridge the caller to a number, client, SIP...).

Authoring::

    {"name": "operator", "type": "connect", "noun": "number", "to": "+254700000000",
     "callCompleted": "goodbye", "hangup": null}

A box bridges calls only once lines can dial out (``Line.dial``, from the outbound-call
work); until then the widget ends the way Studio's does when nobody answers:
``callCompleted`` with ``{{widgets.X.DialCallStatus}}`` = ``failed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ._cloud import CloudKind


class ConnectCall(CloudKind):
    name = "connect"
    widget = "connect-call-to"
    events = ("callCompleted", "hangup")
    failure = "callCompleted"
    fields = frozenset({"noun", "to", "caller_id", "timeout", "record", "sip_endpoint",
                        "sip_username", "sip_password"})
    offline_outputs: ClassVar[Mapping[str, Any]] = {"offline": True, "DialCallStatus": "failed"}


KIND = ConnectCall()
