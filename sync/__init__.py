"""Exactly-once store-and-forward of the outbox to HQ and Twilio Sync (docs/sync.md; wire
format in sync/PROTOCOL.md).

Entry points (pyproject.toml): ``sync.config:SECTIONS``, ``sync.cli:register``,
``sync.service:start``, ``sync.status:status_lines``. Inside: ``codec`` (batch encoding),
``_batching`` (decisions as plain functions), ``_ledger`` (sealed batches in SQLite),
``_runner`` (the drain loop), ``_hq`` / ``_twilio`` (sinks), ``pull`` (survey packs),
``hq`` (reference receiver). The stand-ins tests and bench use are in tests/support.
Kept free of imports so that loading the config section stays cheap.
"""
