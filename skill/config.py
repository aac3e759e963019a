"""Choosing where progress lives from configuration (environment variables or a dict).

`PROGRESS_TABLE` set means DynamoDB (the Lambda deployment); unset means an embedded
SQLite file, so a developer can run the skill with nothing but Python.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter

from skill.budget import MAX_TURN_BUDGET_SECONDS, TURN_BUDGET_SECONDS

DEFAULT_DB = Path(".foot-routine") / "progress.sqlite3"


def make_store(config: Mapping[str, str] | None = None) -> AbstractPersistenceAdapter:
    """The persistence adapter the configuration asks for; never touches the network."""
    config = os.environ if config is None else config
    table = config.get("PROGRESS_TABLE")
    if table:
        from skill.store_dynamodb import DynamoDbStore

        return DynamoDbStore(
            table,
            endpoint_url=config.get("DYNAMODB_ENDPOINT_URL") or None,
            region=config.get("AWS_REGION") or config.get("AWS_DEFAULT_REGION") or None,
        )
    from skill.store_sqlite import SqliteStore

    return SqliteStore(Path(config.get("FOOT_ROUTINE_DB") or DEFAULT_DB))


def turn_budget_seconds(config: Mapping[str, str]) -> float:
    """`TURN_BUDGET_SECONDS`: seconds for all outside calls of one turn (default 3).

    A value that is not a number in (0, 6] stops the skill from starting rather than being
    ignored: an operator who set a budget must not run, unknowingly, on another one, and
    more than 6 s would let a slow turn meet Lambda's 7 s timeout.
    """
    raw = (config.get("TURN_BUDGET_SECONDS") or "").strip()
    if not raw:
        return TURN_BUDGET_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds <= MAX_TURN_BUDGET_SECONDS:
        raise ValueError(f"TURN_BUDGET_SECONDS must be a number of seconds above 0 and at most "
                         f"{MAX_TURN_BUDGET_SECONDS:g}, not {raw!r}")
    return seconds
