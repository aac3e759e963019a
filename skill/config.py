"""Choosing where progress lives from configuration (environment variables or a dict).

`PROGRESS_TABLE` set means DynamoDB (the Lambda deployment); unset means an embedded
SQLite file, so a developer can run the skill with nothing but Python.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter

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
