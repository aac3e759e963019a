"""4. DynamoDB cost: reads, writes and capacity units per full routine and per turn type.

Our DynamoDbStore talks to dynalite through `CountingClient`, a thin wrapper around a real
boto3 client that asks for `ReturnConsumedCapacity=TOTAL` (dynalite reports it, computed
from item sizes as DynamoDB does: 4 KB per strongly consistent read unit, 1 KB per write
unit) and counts every item call. The baseline is the same skill made to save on every
turn (bench.baselines.save_every_turn), replaying the very same request kinds.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from bench.baselines import save_every_turn
from bench.dialogue import full_routine, lambda_handler_on, new_device, replay
from bench.localdb import LocalDynamo
from bench.report import Row, Target
from skill.alexa.app import build_skill
from skill.storage.store_dynamodb import DynamoDbStore

SECTION = "4 dynamodb cost"
READ_CALLS = frozenset({"get_item", "batch_get_item", "query", "scan"})
WRITE_CALLS = frozenset({"put_item", "update_item", "delete_item", "batch_write_item"})
# Our session attribute holding progress, and its keys that never reach the store.
PROGRESS_ATTRIBUTE = "progress"
SESSION_ONLY = frozenset({"briefed", "paused", "finished", "question", "version"})
# Turns that change nothing worth keeping: the target is no write at all on these.
QUIET_TURNS = (
    "AMAZON.RepeatIntent",
    "AMAZON.HelpIntent",
    "ProgressIntent",
    "AMAZON.FallbackIntent",
)


@dataclass
class Usage:
    """Calls and capacity units; `unreported` counts calls whose response had no figure."""

    reads: int = 0
    writes: int = 0
    read_units: float = 0.0
    write_units: float = 0.0
    unreported: int = 0

    def minus(self, other: Usage) -> Usage:
        return Usage(*(getattr(self, name) - getattr(other, name) for name in self.__dict__))

    def add(self, other: Usage) -> None:
        for name in self.__dict__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def copy(self) -> Usage:
        return Usage(**self.__dict__)


class CountingClient:
    """A boto3 DynamoDB client that counts item calls and the capacity each consumed.

    A call that fails (a conditional write that lost) is counted as a call, with no units:
    DynamoDB bills it, dynalite reports nothing for it; `unreported` shows how often.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self.usage = Usage()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if name not in READ_CALLS | WRITE_CALLS:
            return method

        def counted(**kwargs: Any) -> Any:
            kwargs.setdefault("ReturnConsumedCapacity", "TOTAL")
            is_read = name in READ_CALLS
            if is_read:
                self.usage.reads += 1
            else:
                self.usage.writes += 1
            response = None
            try:
                response = method(**kwargs)
                return response
            finally:
                self._record_units(response, is_read)

        return counted

    def _record_units(self, response: dict[str, Any] | None, is_read: bool) -> None:
        units = (response or {}).get("ConsumedCapacity", {}).get("CapacityUnits")
        if units is None:
            self.usage.unreported += 1
        elif is_read:
            self.usage.read_units += units
        else:
            self.usage.write_units += units


@dataclass
class DialogueCost:
    """What one routine cost, in total and per turn kind (summed over that kind's turns)."""

    total: Usage = field(default_factory=Usage)
    by_kind: dict[str, Usage] = field(default_factory=lambda: defaultdict(Usage))
    turns_by_kind: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class CostedHandler:
    """Wraps a handler: the usage between entering and leaving it belongs to that turn."""

    def __init__(self, handler: Any, client: CountingClient) -> None:
        self.handler = handler
        self.client = client
        self.cost = DialogueCost()
        self.responses: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        before = self.client.usage.copy()
        response = self.handler(event, context)
        self.responses.append(response)
        kind = _kind_of(event)
        used = self.client.usage.minus(before)
        self.cost.total.add(used)
        self.cost.by_kind[kind].add(used)
        self.cost.turns_by_kind[kind] += 1
        return response


def _kind_of(event: dict[str, Any]) -> str:
    request = event["request"]
    return request["intent"]["name"] if request["type"] == "IntentRequest" else request["type"]


def _stored_state(response: dict[str, Any], coarse: bool) -> str | None:
    """The progress a turn ends with, as text; `coarse` drops the step and the timestamp."""
    progress = (response.get("sessionAttributes") or {}).get(PROGRESS_ATTRIBUTE)
    if not isinstance(progress, dict):
        return None
    state = {k: v for k, v in progress.items() if k not in SESSION_ONLY}
    if coarse:
        state.pop("updated_at", None)
        if isinstance(state.get("position"), dict):
            state["position"] = state["position"].get("exercise")
    return json.dumps(state, sort_keys=True)


def exercise_level_writes(responses: list[dict[str, Any]]) -> int | None:
    """Writes ours would make if progress were stored when the exercise (or anything but
    the step) changed, plus one flush at the end for the step: what-if, not measured."""
    coarse = [_stored_state(response, coarse=True) for response in responses]
    fine = [_stored_state(response, coarse=False) for response in responses]
    if coarse[0] is None:
        return None
    writes, last_written = 0, 0
    for index in range(1, len(responses)):
        if coarse[index] is not None and coarse[index] != coarse[last_written]:
            writes, last_written = writes + 1, index
    final = max(i for i, state in enumerate(fine) if state is not None)
    return writes + (fine[final] != fine[last_written])


def dialogue_costs(local: LocalDynamo) -> tuple[DialogueCost, DialogueCost, list[str], Any]:
    """Ours live, then the save-every-turn baseline on the same kinds, each a new user."""
    runs = {}
    responses: list[dict[str, Any]] = []
    kinds: list[str] = []
    for name in ("ours", "baseline"):
        client = CountingClient(local.client)
        skill = build_skill(DynamoDbStore(local.ours_table, client=client))
        if name == "baseline":
            skill = save_every_turn(skill)
        with lambda_handler_on(skill) as handler:
            costed_handler = CostedHandler(handler, client)
            if name == "ours":
                kinds = [turn.kind for turn in full_routine(costed_handler, new_device("cost"))]
                responses = costed_handler.responses
            else:
                replay(costed_handler, new_device("cost"), kinds)
        runs[name] = costed_handler.cost
    return runs["ours"], runs["baseline"], kinds, responses


def _per_turn(usage: Usage, turns: int) -> str:
    units = (usage.read_units + usage.write_units) / turns
    return f"{usage.writes / turns:.2f} w, {usage.reads / turns:.2f} r, {units:.2f} CU"


def routine_rows(ours: Usage, baseline: Usage) -> list[Row]:
    def row(metric: str, attribute: str, target: Target | None = None) -> Row:
        return Row(SECTION, metric, getattr(ours, attribute), getattr(baseline, attribute),
                   "", target=target, digits=1)

    return [
        row("reads per full routine", "reads"),
        row("writes per full routine", "writes", Target(0.3)),
        row("read capacity units per routine", "read_units"),
        row("write capacity units per routine", "write_units"),
    ]


def kind_rows(ours: DialogueCost, baseline: DialogueCost) -> list[Row]:
    """Per turn kind: writes, reads and units per turn; the ratio and target are on writes."""
    rows = []
    for kind, count in ours.turns_by_kind.items():
        mine, theirs = ours.by_kind[kind], baseline.by_kind[kind]
        target = Target(0, on="ours") if kind in QUIET_TURNS else None
        rows.append(
            Row(SECTION, f"per turn: {kind} (x{count})", mine.writes / count,
                theirs.writes / count, target=target, ours_text=_per_turn(mine, count),
                baseline_text=_per_turn(theirs, count))
        )
    return rows


def measure(local: LocalDynamo) -> tuple[list[Row], dict[str, Any]]:
    ours, baseline, kinds, responses = dialogue_costs(local)
    detail = {
        "capacity_source": "ReturnConsumedCapacity=TOTAL as reported by dynalite",
        "turns_per_routine": len(kinds),
        "kinds": kinds,
        "ours": _as_json(ours),
        "baseline": _as_json(baseline),
        "baseline_wrote_every_turn": baseline.total.writes == len(kinds),
        "what_if_exercise_level_writes": exercise_level_writes(responses),
    }
    return routine_rows(ours.total, baseline.total) + kind_rows(ours, baseline), detail


def _as_json(cost: DialogueCost) -> dict[str, Any]:
    return {
        "total": cost.total.__dict__,
        "by_kind": {kind: usage.__dict__ for kind, usage in cost.by_kind.items()},
        "turns_by_kind": dict(cost.turns_by_kind),
    }
