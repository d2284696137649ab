"""HQ performs the requests boxes queued for it (``request`` records: a Studio
make-http-request or send-message with ``"offline": "queue"``), each at most once: rules in
``_rules`` (pure), claims in ``storage.request_queue``, the network in ``_send``."""

from ._keys import REQUESTS, policy
from ._performer import PassReport, Performer
from ._rules import PerformPolicy, TwilioAccount

__all__ = ["REQUESTS", "PassReport", "PerformPolicy", "Performer", "TwilioAccount", "policy"]
