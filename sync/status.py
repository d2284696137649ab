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
        if "sync_audio" in tables:
            lines += _recordings(store, sink)
        if parked:
            first = parked[0]
            lines.append((f"sync {sink} parked",
                          f"{plural(len(parked), 'batch')} (first {first['batch_id']}: "
                          f"{first['reason']}); fix, then 'edgecall sync --once "
                          "--retry-parked'"))
    return lines


def _recordings(store: Store, sink: str) -> list[tuple[str, str]]:
    """Recordings' sound sent to ``sink`` (HQ only): delivered, waiting, parked."""
    counts = {r["state"]: r["n"] for r in store.query(
        "SELECT state, count(*) AS n FROM sync_audio WHERE sink = ? GROUP BY state", [sink])}
    if not counts:
        return []
    done, parked = counts.get("done", 0), counts.get("parked", 0)
    waiting = max(0, len(store.reads.audio_references()) - done - parked)
    text = f"{done} at {sink}, {waiting} waiting"
    if parked:
        text += f", {parked} parked (see the log)"
    return [(f"sync {sink} audio", text)]
