"""DynamoDB helpers for tests: the template's table, a counting and fault-injecting client."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError

from skill.storage.store import KEY_ATTRIBUTE
from skill.storage.store_dynamodb import DynamoDbStore
from tests.dynalite_server import create_table
from tests.template_loader import load_template, resource

Fault = Callable[[str, int], Exception | None]


def throttled(operation: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"},
         "ResponseMetadata": {"HTTPStatusCode": 400}},
        operation,
    )


def service_unavailable(operation: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": "ServiceUnavailable", "Message": "try later"},
         "ResponseMetadata": {"HTTPStatusCode": 503}},
        operation,
    )


def connect_timeout(operation: str) -> Exception:
    return ConnectTimeoutError(endpoint_url="http://127.0.0.1:1")


def read_timeout(operation: str) -> Exception:
    return ReadTimeoutError(endpoint_url="http://127.0.0.1:1")


class CountingClient:
    """Wraps a real client: counts calls per operation and injects faults on demand.

    `fault` fails a call before it reaches the server; `lost_ack` fails it after the server
    did it (the acknowledgement lost on the way back), which is what makes a retry dangerous.
    """

    def __init__(self, client: Any, fault: Fault | None = None,
                 lost_ack: Fault | None = None) -> None:
        self.client = client
        self.fault = fault
        self.lost_ack = lost_ack
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)
        if name not in ("get_item", "put_item", "delete_item"):
            return method

        def call(**kwargs: Any) -> Any:
            self.calls[name] += 1
            error = self.fault(name, self.calls[name]) if self.fault else None
            if error is not None:
                raise error
            result = method(**kwargs)
            error = self.lost_ack(name, self.calls[name]) if self.lost_ack else None
            if error is not None:
                raise error
            return result

        return call


def template_table(client: Any) -> str:
    """A table built from template.yaml's ProgressTable, so tests cannot drift from it."""
    return create_table(client, resource(load_template(), "ProgressTable")["Properties"])


def stored_item(client: Any, table: str, user_id: str) -> dict[str, Any] | None:
    store = DynamoDbStore(table, client=client)
    return store.read(user_id)


def plant_item(client: Any, table: str, user_id: str, attributes: dict[str, Any]) -> None:
    """Store attribute values exactly as given, as anything else writing the table might."""
    client.put_item(TableName=table, Item={KEY_ATTRIBUTE: {"S": user_id}, **attributes})
