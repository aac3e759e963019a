"""2. Warm turn: one turn through `handler(event, context)` in a process that already answered.

Ours runs `skill.lambda_function.handler` on an in-memory store over the scripted full
routine; the hello-world sample (`sb.lambda_handler()`, also on an in-memory adapter) is sent
the same request kinds in the same process. Routines alternate between the two, after one
untimed routine each (content parsed, code paths warmed), so both see the same machine.
Both run with telemetry as on Lambda (bench/lambda_logging.py): the runtime's JSON log
handler and our EMF lines, written to /dev/null, so a turn pays for its log line and metrics.
"""

from __future__ import annotations

from typing import Any

from bench.baselines import hello_world_handler
from bench.dialogue import Turn, full_routine, lambda_handler_on, new_device, replay
from bench.lambda_logging import as_on_lambda
from bench.report import Row, percentile_rows
from bench.stats import summary
from skill.alexa.app import build_skill
from skill.storage.store import MemoryStore

SECTION = "2 warm turn"


def one_round(ours: Any, hello: Any) -> tuple[list[Turn], list[Turn]]:
    """One full routine through ours, then the same kinds through the hello-world sample."""
    turns = full_routine(ours, new_device("warm"))
    return turns, replay(hello, new_device("hello"), [turn.kind for turn in turns])


def measure(routines: int) -> tuple[list[Row], dict[str, Any]]:
    hello = hello_world_handler(MemoryStore())
    with lambda_handler_on(build_skill(MemoryStore())) as ours, as_on_lambda():
        one_round(ours, hello)  # warm-up, not counted
        times: dict[str, list[float]] = {"ours": [], "hello": []}
        for _ in range(routines):
            ours_turns, hello_turns = one_round(ours, hello)
            times["ours"] += [turn.seconds * 1000 for turn in ours_turns]
            times["hello"] += [turn.seconds * 1000 for turn in hello_turns]
    stats = {kind: summary(values) for kind, values in times.items()}
    rows = percentile_rows(SECTION, "handler turn", stats["ours"], stats["hello"], "ms", 1.5)
    detail = {"routines": routines, "turns_per_routine": len(ours_turns), "stats_ms": stats}
    return rows, detail
