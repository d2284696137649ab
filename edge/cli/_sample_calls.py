"""The calls file ``edgecall init --simulated`` writes: scripted callers of the bundled demo
survey, one of each outcome a newcomer should see recorded.

The format is the ``[simulated] calls_file`` one (edge/lines/simulated.py): a JSON list, each
entry placed ``at_s`` seconds after start, with per-prompt ``responses`` (keys, "" for silence,
"HANGUP").
"""

from __future__ import annotations

import json
from typing import Any

from edge.lines.simulated import HANGUP

# Fictional numbers. A call lasts about 10 s, so 4 s apart at most three are up at once:
# [server] max_concurrent_calls is 4 and no sample caller may get the busy message.
SAMPLE_CALLS: list[dict[str, Any]] = [
    {"at_s": 0, "number": "+255700000001",  # complete, in English
     "responses": {"language.prompt": ["1"], "consent.prompt": ["1"],
                   "household.prompt": ["4#"], "children.prompt": ["2#"],
                   "need.prompt": ["1"], "callback.prompt": ["2"]}},
    {"at_s": 4, "number": "+255700000002",  # complete, in French, through the water branch
     "responses": {"language.prompt": ["2"], "consent.prompt": ["1"],
                   "household.prompt": ["1#"], "need.prompt": ["2"],
                   "water_source.prompt": ["2"], "callback.prompt": ["2"]}},
    {"at_s": 8, "number": None,  # withheld number; declines consent: refused
     "responses": {"language.prompt": ["3"], "consent.prompt": ["2"]}},
    {"at_s": 12, "number": "+255700000004",  # hangs up after two answers: partial
     "responses": {"language.prompt": ["1"], "consent.prompt": ["1"],
                   "household.prompt": ["3#"], "children.prompt": [HANGUP]}},
    {"at_s": 16, "number": "+255700000005",  # presses the opt-out key: refused
     "responses": {"language.prompt": ["1"], "consent.prompt": ["*"]}},
]

# What the calls above end as, in order (the test of 'init --simulated' checks them).
SAMPLE_DISPOSITIONS = ("complete", "complete", "refused", "partial", "refused")


def sample_calls_text() -> str:
    return json.dumps(SAMPLE_CALLS, indent=2) + "\n"
