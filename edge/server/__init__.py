"""The server: runs lines, one engine session per call (edge.server.run_call for one call)."""

from ._runner import begin_call, play_and_wait, run_call
from ._server import CallServer, data_dir_problem
from ._surveys import SurveySource

__all__ = ["CallServer", "SurveySource", "begin_call", "data_dir_problem", "play_and_wait",
           "run_call"]
