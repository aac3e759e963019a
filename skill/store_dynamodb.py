"""Progress in DynamoDB: one small item per user, read once per session.

botocore is imported and the client built on first use, not at import: a Lambda cold
start that never needs the table (or needs it later) does not pay for it, and no region
is needed to import the skill. We use botocore's client directly rather than boto3's:
boto3's import adds s3transfer and the resource layer (~35 ms of a cold start) for
nothing we use, and our item needs only a few lines of attribute-value encoding. Timeouts and retries are short and bounded so that a
slow or throttled table still lets us answer well inside Alexa's 8 seconds.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from skill.store import KEY_ATTRIBUTE, ProgressStore, StoreError

# Worst case per call: 2 attempts x (0.5 s connect + 1 s read) plus a short backoff,
# well under Lambda's timeout and Alexa's 8 s.
CLIENT_SETTINGS = {
    "connect_timeout": 0.5,
    "read_timeout": 1.0,
    "retries": {"max_attempts": 2, "mode": "standard"},
}


def encode(value: Any) -> dict[str, Any]:
    """A Python value as a DynamoDB attribute value (the types our item uses)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, list | tuple):
        return {"L": [encode(item) for item in value]}
    if isinstance(value, dict):
        return {"M": {key: encode(item) for key, item in value.items()}}
    raise TypeError(f"cannot store {type(value).__name__} in DynamoDB")


def decode(attribute: dict[str, Any]) -> Any:
    """A DynamoDB attribute value as plain Python (numbers as int where they are whole)."""
    (kind, value), = attribute.items()
    if kind == "N":
        number = Decimal(value)
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "L":
        return [decode(item) for item in value]
    if kind == "M":
        return {key: decode(item) for key, item in value.items()}
    if kind == "NULL":
        return None
    return value  # S, BOOL


class DynamoDbStore(ProgressStore):
    def __init__(
        self, table: str, endpoint_url: str | None = None, region: str | None = None,
        client: Any = None,
    ) -> None:
        self.table = table
        self.endpoint_url = endpoint_url
        self.region = region
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from botocore.config import Config
            from botocore.session import get_session

            self._client = get_session().create_client(
                "dynamodb",
                endpoint_url=self.endpoint_url,
                region_name=self.region or "us-east-1",
                config=Config(**CLIENT_SETTINGS),
            )
        return self._client

    def _call(self, operation: str, **kwargs: Any) -> Any:
        """Every AWS failure becomes a StoreError; the caller keeps the session going."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, operation)(TableName=self.table, **kwargs)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise
            raise StoreError(f"dynamodb {operation} failed: {error}") from error
        except BotoCoreError as error:
            raise StoreError(f"dynamodb {operation} failed: {error}") from error

    def _key(self, user_id: str) -> dict[str, Any]:
        return {KEY_ATTRIBUTE: {"S": user_id}}

    def read(self, user_id: str) -> dict[str, Any] | None:
        response = self._call("get_item", Key=self._key(user_id), ConsistentRead=True)
        if "Item" not in response:
            return None
        item = {key: decode(value) for key, value in response["Item"].items()}
        item.pop(KEY_ATTRIBUTE, None)
        return item

    def write(self, user_id: str, item: dict[str, Any], expected_version: int) -> bool:
        from botocore.exceptions import ClientError

        encoded = {key: encode(value) for key, value in item.items()}
        encoded.update(self._key(user_id))
        condition = "attribute_not_exists(#key) OR #version = :expected"
        if expected_version == 0:
            # An item written before versions existed has none; it may be replaced.
            condition += " OR attribute_not_exists(#version)"
        try:
            self._call(
                "put_item",
                Item=encoded,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#key": KEY_ATTRIBUTE, "#version": "version"},
                ExpressionAttributeValues={":expected": {"N": str(expected_version)}},
            )
        except ClientError:
            return False
        return True

    def delete(self, user_id: str) -> None:
        self._call("delete_item", Key=self._key(user_id))
