"""edgecall's call server: lines interface, survey engine, durable store, server loop and CLI.

Dependencies run one way: ``hardware/`` implements :mod:`edge.lines`; ``sync/`` reads the
store's outbox; nothing in ``edge/`` imports either of them.
"""

__version__ = "0.1.0"
