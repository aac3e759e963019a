"""Check the dynalite harness itself: it starts, stores items and validates like DynamoDB.

Why: other integration tests trust this server to reject what real DynamoDB rejects; if it
silently accepted a wrong key type, those tests would prove nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.dynalite_server import create_table, dynalite_endpoint, dynamodb_client  # noqa: F401

USERS_TABLE: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "user_id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "user_id", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
    "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
}


@pytest.fixture()
def table(dynalite_endpoint: str) -> tuple[Any, str]:  # noqa: F811
    """A fresh users table per test, so tests never see each other's items."""
    client = dynamodb_client(dynalite_endpoint)
    return client, create_table(client, USERS_TABLE, prefix="harness")


def test_table_is_created_with_the_definition_key_schema(table: tuple[Any, str]) -> None:
    client, name = table
    described = client.describe_table(TableName=name)["Table"]
    assert described["TableStatus"] == "ACTIVE"
    assert described["KeySchema"] == USERS_TABLE["KeySchema"]
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_put_then_get_round_trips_an_item(table: tuple[Any, str]) -> None:
    client, name = table
    item = {"user_id": {"S": "amzn1.ask.account.A"}, "expires_at": {"N": "1700000000"}}
    client.put_item(TableName=name, Item=item)
    got = client.get_item(TableName=name, Key={"user_id": {"S": "amzn1.ask.account.A"}})
    assert got["Item"] == item


def test_conditional_put_on_existing_key_fails(table: tuple[Any, str]) -> None:
    client, name = table
    item = {"user_id": {"S": "u1"}}
    client.put_item(TableName=name, Item=item)
    with pytest.raises(ClientError) as caught:
        client.put_item(
            TableName=name, Item=item, ConditionExpression="attribute_not_exists(user_id)"
        )
    assert caught.value.response["Error"]["Code"] == "ConditionalCheckFailedException"


def test_wrong_key_type_is_rejected(table: tuple[Any, str]) -> None:
    """The reason dynalite is here at all: moto's server would accept this item."""
    client, name = table
    with pytest.raises(ClientError) as caught:
        client.put_item(TableName=name, Item={"user_id": {"N": "42"}})
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "key" in caught.value.response["Error"]["Message"].lower()


def test_unknown_definition_property_is_refused(dynalite_endpoint: str) -> None:  # noqa: F811
    client = dynamodb_client(dynalite_endpoint)
    with pytest.raises(ValueError, match="Frobnicate"):
        create_table(client, {**USERS_TABLE, "Frobnicate": True})
