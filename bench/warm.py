"""2. Warm turn: one turn through `handler(event, context)` in a process that already answered.

Ours runs `skill.lambda_function.handler` on an in-memory store over the scripted full
routine; the hello-world sample (`sb.lambda_handler()`, also on an in-memory adapter) is sent
the same request kinds in the same process. Routines alternate between the two, after one
untimed routine each (content parsed, code paths warmed), and which goes first is reversed
every other round, so both see the same machine and neither always follows the other.
Both run with telemetry as on Lambda (bench/lambda_logging.py): the runtime's JSON log
handler and our EMF lines, written to /dev/null, so a turn pays for its log line and metrics.
"""

from __future__ import annotations

from typing import Any

from bench.baselines import hello_world_handler
from bench.dialogue import Turn, full_routine, lambda_handler_on, new_device, replay
from bench.lambda_logging import as_on_lambda
from bench.report import Row, percentile_rows
from bench.stats import alternating, summary
from skill.alexa.app import build_skill
from skill.storage.store import MemoryStore

SECTION = "2 warm turn"
KINDS = ("ours", "hello")


def measure(routines: int) -> tuple[list[Row], dict[str, Any]]:
    hello = hello_world_handler(MemoryStore())
    with lambda_handler_on(build_skill(MemoryStore())) as ours, as_on_lambda():
        # One untimed routine each; ours is driven live, and its dialogue is the same every
        # routine, so the sample replays these kinds whichever of the two goes first.
        kinds = [turn.kind for turn in full_routine(ours, new_device("warm"))]
        replay(hello, new_device("hello"), kinds)
        times: dict[str, list[float]] = {"ours": [], "hello": []}
        for index in range(routines):
            for kind in alternating(KINDS, index):
                turns = _routine(kind, ours, hello, kinds)
                times[kind] += [turn.seconds * 1000 for turn in turns]
    stats = {kind: summary(values) for kind, values in times.items()}
    rows = percentile_rows(SECTION, "handler turn", stats["ours"], stats["hello"], "ms", 1.5)
    detail = {"routines": routines, "turns_per_routine": len(kinds), "stats_ms": stats}
    return rows, detail


def _routine(kind: str, ours: Any, hello: Any, kinds: list[str]) -> list[Turn]:
    if kind == "hello":
        return replay(hello, new_device("hello"), kinds)
    turns = full_routine(ours, new_device("warm"))
    if [turn.kind for turn in turns] != kinds:
        raise RuntimeError("our dialogue changed between routines; the sample would replay "
                           "a different one")
    return turns
