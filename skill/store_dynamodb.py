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

from skill.store import (
    DELETED_ATTRIBUTE,
    KEY_ATTRIBUTE,
    VERSION_ATTRIBUTE,
    Expect,
    Found,
    ProgressStore,
    StoreError,
)

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

    def fetch(self, user_id: str) -> Found | None:
        response = self._call("get_item", Key=self._key(user_id), ConsistentRead=True)
        raw = response.get("Item")
        if raw is None:
            return None
        return Found({key: decode(value) for key, value in raw.items() if key != KEY_ATTRIBUTE}, raw)

    def put(self, user_id: str, item: dict[str, Any], expect: Expect) -> bool:
        """A PutItem whose ConditionExpression states `Expect.allows`, so DynamoDB checks
        it against what is stored at that moment."""
        condition, values = _condition(expect)
        names = {placeholder: attribute for placeholder, attribute in _NAMES.items()
                 if placeholder in condition}
        try:
            self._call("put_item", Item=self._encoded(user_id, item),
                       ConditionExpression=condition, ExpressionAttributeNames=names,
                       # DynamoDB rejects an empty map of values.
                       **({"ExpressionAttributeValues": values} if values else {}))
        except Exception as error:
            if _condition_failed(error):
                return False
            raise
        return True

    def bury(self, user_id: str, grave: dict[str, Any]) -> None:
        # A PutItem replaces every attribute: nothing of the user's progress is left.
        self._call("put_item", Item=self._encoded(user_id, grave))

    def _encoded(self, user_id: str, item: dict[str, Any]) -> dict[str, Any]:
        return {**{key: encode(value) for key, value in item.items()}, **self._key(user_id)}


_NAMES = {"#key": KEY_ATTRIBUTE, "#version": VERSION_ATTRIBUTE, "#deleted": DELETED_ATTRIBUTE}


def _condition(expect: Expect) -> tuple[str, dict[str, Any]]:
    """`Expect.allows` as a DynamoDB condition and its values."""
    if expect.replacing is not None:
        return _unchanged(expect.replacing.raw)
    condition = "(#version = :version AND attribute_not_exists(#deleted))"
    values = {":version": {"N": str(expect.version)}}
    if expect.version == 0:
        # No item, one from before versions existed, or a tombstone older than the session.
        condition += (" OR attribute_not_exists(#key)"
                      " OR (attribute_not_exists(#version) AND attribute_not_exists(#deleted))"
                      " OR #deleted < :started")
        values[":started"] = {"N": repr(expect.started)}
    return condition, values


def _unchanged(raw: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The stored item is still the unreadable one we read: its version and deletion time
    as they were, whatever their types (every write of ours sets a whole-number version,
    so no write of ours can have come in between)."""
    parts, values = ["attribute_exists(#key)"], {}
    for placeholder, attribute in (("#version", VERSION_ATTRIBUTE), ("#deleted", DELETED_ATTRIBUTE)):
        if attribute in raw:
            parts.append(f"{placeholder} = :was_{attribute}")
            values[f":was_{attribute}"] = raw[attribute]
        else:
            parts.append(f"attribute_not_exists({placeholder})")
    return " AND ".join(parts), values


def _condition_failed(error: Exception) -> bool:
    """A refused condition, from botocore's ClientError or our HTTP client's error alike."""
    response = getattr(error, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return code == "ConditionalCheckFailedException"
