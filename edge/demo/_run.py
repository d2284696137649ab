"""The demo box: the bundled survey, simulated callers arriving at random, live progress, a
summary, and exports — all through the same server, engine and store as a real box."""

from __future__ import annotations

import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from edge.config import Config, load_secrets, parse_config
from edge.export import export_csv, export_json
from edge.lines import Line
from edge.lines.console import ConsoleLine
from edge.plugins import all_sections
from edge.server import Box
from edge.stats import summarise
from edge.store import Store
from edge.survey import BUILTIN_DEMO, load_survey
from edge.words import plural

from ._files import write_files
from ._networks import open_network
from ._personas import MISSED, make_caller


@dataclass
class DemoOptions:
    directory: Path = Path("edgecall-demo")
    calls: int = 24
    lines: int = 4
    speed: float = 25.0
    seed: int | None = 7
    survey: Path = BUILTIN_DEMO
    via: str = "simulated"  # or a demo line plug-in such as "modem"


def demo_config(options: DemoOptions, lines: int, calls_back: bool = False) -> Config:
    """The demo box's config: box id ``demo``, data in ``DIR/data``, the chosen survey; with
    ``calls_back``, callers who ring off are called back at any hour. Also written as
    ``DIR/edgecall.toml`` (with a local HQ's files) for the commands after the demo."""
    directory = options.directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    write_files(directory, options.survey.resolve())
    raw = {"box": {"id": "demo", "data_dir": str(directory / "data"),
                   "secrets_file": str(directory / "secrets.toml")},
           "survey": {"file": str(options.survey.resolve())},
           "server": {"max_concurrent_calls": lines, "shutdown_grace_s": 5.0}}
    if calls_back:
        raw["outbound"] = {"enabled": True, "calling_hours": "00:00-24:00",
                           "max_outbound": max(1, lines // 2), "reserve_inbound": 1}
    config = parse_config(raw, "the demo", all_sections())
    return Config(config.path, config.sections, load_secrets(config.secrets_path))


def _box(options: DemoOptions, lines: list[Line], max_calls: int, timer_scale: float,
         on_call_end: Callable[[str | None, str], None], calls_back: bool = False) -> Box:
    return Box(demo_config(options, max_calls, calls_back), lines=lines,
               timer_scale=timer_scale, on_call_end=on_call_end, services=False)


def run_demo(options: DemoOptions, out: TextIO | None = None) -> dict[str, int]:
    """Run the scripted calls; return this run's dispositions."""
    out = out or sys.stdout
    survey = load_survey(options.survey)
    rng = random.Random(options.seed)
    network = open_network(options.via, options.directory, survey, options.lines,
                           options.speed)
    done: Counter[str] = Counter()
    finished = threading.Semaphore(0)
    lock = threading.Lock()
    # Drawn up front from the seed: who calls and when, whatever the speed.
    callers = [make_caller(survey, rng, rings_off=network.calls_back)
               for _ in range(options.calls)]
    gaps = [rng.expovariate(1 / 15) for _ in callers]  # about every 15 s of simulated time

    def on_call_end(call_id: str | None, disposition: str) -> None:
        with lock:
            done[disposition] += 1
            n = sum(done.values())
            detail = ""
            if call_id:
                row = store.reads.call(call_id) or {"language": None, "answered": 0}
                detail = f"{row['language'] or '--'}  {plural(row['answered'], 'answer')}"
                if row.get("attempt"):
                    detail += "  (the box called back)"
            out.write(f"  [{n:>3}] {call_id or '(not recorded)':<22} "
                      f"{disposition:<9} {detail}\n")
            out.flush()
        finished.release()

    box = _box(options, network.lines, options.lines, network.timer_scale(options.speed),
               on_call_end, calls_back=network.calls_back)
    store = box.store
    first_call_no = store.reads.last_call_no()
    through = ("a simulated line" if options.via == "simulated"
               else f"simulated {options.via}s and the real {options.via} driver")
    out.write(f"edgecall demo: survey {survey.title!r} ({', '.join(survey.languages)}), "
              f"{plural(options.calls, 'simulated caller')} on {plural(options.lines, 'line')}"
              f" through {through}, "
              f"{options.speed:g}x real time\n")
    box.start()
    started = time.monotonic()
    personas: Counter[str] = Counter()
    for caller, gap in zip(callers, gaps, strict=True):
        personas[caller.persona] += 1
        # One who finds every line busy redials until one is free (as on the modem network):
        # whether a caller finds the lines busy would hang on how fast this machine runs, and
        # a seeded demo must give the same dispositions at any speed.
        _wait_for_a_free_line(box, options)
        network.place(caller)
        time.sleep(gap / options.speed)
    deadline = time.monotonic() + 120 + options.calls * 120 / options.speed
    for _ in range(options.calls):
        if not finished.acquire(timeout=max(0.1, deadline - time.monotonic())):
            out.write("  (some calls did not finish in time)\n")
            break
    # Then the calls back: every callback placed and its call over.
    while time.monotonic() < deadline and (
            box.server.active_calls or _callbacks_waiting(store)):
        time.sleep(min(0.05, 5 / options.speed))
    elapsed = time.monotonic() - started
    _summary(store, options, dict(done), personas, elapsed, first_call_no, out)
    box.stop()
    network.close()
    return dict(done)


def _callbacks_waiting(store: Store) -> int:
    counts = store.reads.callback_counts()
    return counts.get("pending", 0) + counts.get("dialling", 0)


def _wait_for_a_free_line(box: Box, options: DemoOptions) -> None:
    while box.server.active_calls >= options.lines:
        time.sleep(min(0.05, 1 / options.speed))


def _summary(store: Store, options: DemoOptions, done: dict[str, int],
             personas: Counter[str], elapsed: float, first_call_no: int, out: TextIO) -> None:
    total = sum(done.values())
    out.write(f"\nSummary of this run ({plural(total, 'call')} in {elapsed:.1f} s):\n")
    for disposition, count in sorted(done.items(), key=lambda kv: -kv[1]):
        out.write(f"  {disposition:<10} {count:>4}  {count / total:6.1%}\n")
    answers = store.reads.answer_count(after_call_no=first_call_no)
    out.write(f"  answers stored: {answers}; callers by behaviour: "
              + ", ".join(f"{k} {v}" for k, v in personas.most_common()) + "\n")
    callbacks = store.reads.callback_counts()
    if callbacks:
        out.write(f"  called back: {plural(callbacks.get('done', 0), 'caller')} "
                  f"({personas.get(MISSED, 0)} rang off before the box answered, the others "
                  "asked for a callback in the survey)\n")
    everything = summarise(store, "")
    exports = options.directory / "exports"
    exports.mkdir(exist_ok=True)
    csv_path, json_path = exports / "calls.csv", exports / "calls.json"
    csv_path.write_text(export_csv(store, load_survey(options.survey).questions()),
                        encoding="utf-8")
    json_path.write_text(export_json(store), encoding="utf-8")
    out.write(f"\nDatabase: {store.path} ({plural(everything.calls, 'call')} in all)\n")
    out.write(f"Exports:  {csv_path}\n          {json_path}\n")
    out.write(f"Outbox:   {plural(store.reads.backlog(), 'record')} waiting to sync to HQ\n")


def run_interactive(options: DemoOptions, stdin: TextIO | None = None,
                    out: TextIO | None = None, speak: bool = True) -> str:
    """One call with the person at the terminal as the caller; returns its disposition."""
    stdin, out = stdin or sys.stdin, out or sys.stdout
    line = ConsoleLine(stdin, out, speak)
    result: dict[str, str] = {}
    ended = threading.Event()

    def on_call_end(call_id: str | None, disposition: str) -> None:
        result["disposition"] = disposition
        result["call_id"] = call_id or ""
        ended.set()

    box = _box(options, [line], 1, 1.0, on_call_end).start()
    store = box.store
    ended.wait()
    box.server.stop(grace_s=1)
    call_id = result.get("call_id")
    out.write(f"\ncall {call_id}: {result['disposition']}\n")
    for row in store.reads.answers(call_id):
        out.write(f"  {row['question']:<14} keys {row['raw']:<6} -> {row['value']}\n")
    out.write(f"stored in {store.path}\n")
    box.stop(grace_s=0)
    return result["disposition"]
