"""``edgecall demo``: a whole box (engine, store, server) with simulated callers."""

from ._run import DemoOptions, run_demo, run_interactive

__all__ = ["DemoOptions", "run_demo", "run_interactive"]
