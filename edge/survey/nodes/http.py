"""http: Studio's make-http-request, offline.

Authoring::

    {"name": "post_results", "type": "http", "method": "POST",
     "url": "https://crm.example.org/hooks/survey", "content_type": "application/json",
     "body": "{\"need\": \"{{answers.need}}\"}", "offline": "queue",
     "success": "thanks", "failed": "sorry"}

``offline``: ``fail`` (default) takes ``failed`` at once; ``queue`` queues the request for HQ
to send once (its id is stable, so a retried sync never sends it twice) and takes
``success``. Queue only requests whose answer the flow does not read
(``{{widgets.X.parsed}}`` is empty on the box).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ._cloud import CloudKind


class HttpRequest(CloudKind):
    name = "http"
    widget = "make-http-request"
    events = ("success", "failed")
    failure = "failed"
    success = "success"
    fields = frozenset({"method", "url", "content_type", "body", "parameters",
                        "add_twilio_auth"})
    offline_outputs: ClassVar[Mapping[str, Any]] = {"offline": True, "status_code": 0}


KIND = HttpRequest()
