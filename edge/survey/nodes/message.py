"""message: Studio's send-message (an SMS), offline.

Authoring::

    {"name": "sms", "type": "message", "to": "{{trigger.call.From}}",
     "body": "Your reference is {{flow.variables.ref}}", "offline": "queue",
     "sent": "thanks", "failed": "thanks"}

``offline``: ``fail`` (default) takes ``failed``; ``queue`` queues the message for HQ to send
once and takes ``sent``. The caller's number never leaves the box inside it: where it
appears, the queued message carries the caller's pseudonym instead (see docs/surveys.md).
"""

from __future__ import annotations

from ._cloud import CloudKind


class SendMessage(CloudKind):
    name = "message"
    widget = "send-message"
    events = ("sent", "failed")
    failure = "failed"
    success = "sent"
    fields = frozenset({"to", "from", "body", "media_url", "channel", "service", "attributes"})


KIND = SendMessage()
