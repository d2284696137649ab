"""The server: a whole box built from its config (:class:`Box`), the call server that runs
lines with one engine session per call, and ``run_call`` for one call."""

from ._box import Box, BoxError, build_lines, open_store, survey_source
from ._runner import begin_call, play_and_wait, run_call
from ._server import CallServer, data_dir_problem
from ._surveys import SurveySource

__all__ = ["Box", "BoxError", "CallServer", "SurveySource", "begin_call", "build_lines",
           "data_dir_problem", "open_store", "play_and_wait", "run_call", "survey_source"]
