"""Calling people back and outbound campaigns.

Public face: :class:`OutboundService` (the dispatcher a Box runs on its scheduler),
:class:`OutboundPolicy` with :func:`policy_from_settings` and :func:`decide` (the pure rules:
calling hours, retries, order, caps), :func:`to_e164`, and :func:`import_campaign`.
The queue itself lives in the store (``store.outbound``).
"""

from ._campaigns import CampaignError, ImportReport, import_campaign, read_numbers
from ._numbers import BadNumber, to_e164
from ._policy import (
    OUTCOMES,
    Decision,
    Job,
    OutboundPolicy,
    decide,
    in_calling_hours,
    next_opening,
    policy_from_settings,
    retry_at,
)
from ._report import outbound_lines
from ._service import OutboundService

__all__ = ["OUTCOMES", "BadNumber", "CampaignError", "Decision", "ImportReport", "Job",
           "OutboundPolicy", "OutboundService", "decide", "import_campaign", "in_calling_hours",
           "next_opening", "outbound_lines", "policy_from_settings", "read_numbers",
           "retry_at", "to_e164"]
