"""``edgecall status`` lines for sync: per sink, backlog, last success and failure, parked."""

from __future__ import annotations

from edge.store import Store
from edge.words import plural


def status_lines(store: Store) -> list[tuple[str, str]]:
    tables = {r["name"] for r in store.query(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "sync_batches" not in tables:
        return [("sync", "never run")]
    # sync's own tables are read here; the store's (outbox, acknowledgements) through it.
    sinks = sorted({r["sink"] for r in store.query(
        "SELECT sink FROM sync_batches UNION SELECT sink FROM sync_sinks")}
        | set(store.reads.acking_sinks()))
    if not sinks:
        return [("sync", "nothing sent yet")]
    lines = []
    for sink in sinks:
        backlog = store.reads.backlog(sink)
        state = store.query("SELECT * FROM sync_sinks WHERE sink = ?", [sink])
        parked = store.query(
            "SELECT batch_id, reason FROM sync_batches WHERE sink = ? AND state = 'parked'"
            " ORDER BY seq", [sink])
        info = state[0] if state else {}
        lines.append((f"sync {sink} backlog", plural(backlog, "record")))
        lines.append((f"sync {sink} last success", info.get("last_success_utc") or "never"))
        if info.get("failures"):
            lines.append((f"sync {sink} last failure",
                          f"{info['last_failure_utc']}: {info['last_error']} "
                          f"({info['failures']} in a row)"))
        if parked:
            first = parked[0]
            lines.append((f"sync {sink} parked",
                          f"{plural(len(parked), 'batch')} (first {first['batch_id']}: "
                          f"{first['reason']}); fix, then 'edgecall sync --once "
                          "--retry-parked'"))
    return lines
