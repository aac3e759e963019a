"""Choosing where progress lives from the settings.

`PROGRESS_TABLE` set means DynamoDB (the Lambda deployment); unset means an embedded
SQLite file, so a developer can run the skill with nothing but Python.
"""

from __future__ import annotations

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter

from skill.settings import Settings


def make_store(settings: Settings) -> AbstractPersistenceAdapter:
    """The persistence adapter the settings ask for; never touches the network."""
    if settings.progress_table:
        from skill.storage.store_dynamodb import DynamoDbStore

        return DynamoDbStore(
            settings.progress_table,
            endpoint_url=settings.dynamodb_endpoint_url,
            region=settings.aws_region,
        )
    from skill.storage.store_sqlite import SqliteStore

    return SqliteStore(settings.foot_routine_db)
