"""Progress in DynamoDB: one small item per user, read once per session.

botocore is imported and the client built on first use, not at import: a Lambda cold
start that never needs the table (or needs it later) does not pay for it, and no region
is needed to import the skill. We use botocore's client directly rather than boto3's:
boto3's import adds s3transfer and the resource layer (~35 ms of a cold start) for
nothing we use, and our item needs only a few lines of attribute-value encoding.

Every call runs inside the turn's time budget (skill/ops/budget.py): the store hands the client
`timeout=` the seconds left, and the client fits its attempts, their socket timeouts and the
back-off between them into that, so a slow or throttled table still lets us answer well
inside Alexa's 8 seconds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from skill.ops import budget
from skill.storage.store import (
    DELETED_ATTRIBUTE,
    KEY_ATTRIBUTE,
    VERSION_ATTRIBUTE,
    Expect,
    Found,
    ProgressStore,
    StoreError,
)

# botocore fixes connect and read timeouts per client (its Config), not per call, so we keep
# one client per step of this ladder and give each attempt the longest step that fits in the
# time left. DynamoDB answers in milliseconds: an attempt that takes a second is lost and
# worth retrying rather than waiting on.
ATTEMPT_TIMEOUTS = (1.0, 0.5, 0.25, budget.MIN_CALL_SECONDS)
CONNECT_TIMEOUT = 0.5
MAX_ATTEMPTS = 3
# Worth another attempt: throttling and DynamoDB's own faults. Connection failures and
# timeouts (BotoCoreError) are retried too; a condition or validation error is final.
RETRYABLE_CODES = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
    "InternalServerError", "ServiceUnavailable",
})


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


def _retryable(error: Exception) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return error.response.get("Error", {}).get("Code") in RETRYABLE_CODES or status >= 500
    return isinstance(error, BotoCoreError)


def attempt_timeout(remaining: float) -> float | None:
    """The longest ladder step that fits in `remaining` seconds, or None when none does."""
    return next((step for step in ATTEMPT_TIMEOUTS if step <= remaining), None)


class BotocoreCalls:
    """botocore clients behind the call shape the store uses: `get_item(timeout=..., **params)`.

    botocore's own retries are off in the clients we build: its back-off (up to seconds) does
    not know the turn's budget. An injected client (tests, benchmarks) keeps its own timeouts;
    the budget still bounds its attempts.
    """

    def __init__(self, client_for: Callable[[float], Any]) -> None:
        self._client_for = client_for

    def get_item(self, *, timeout: float, **params: Any) -> Any:
        return self._call("get_item", timeout, params)

    def put_item(self, *, timeout: float, **params: Any) -> Any:
        return self._call("put_item", timeout, params)

    def delete_item(self, *, timeout: float, **params: Any) -> Any:
        return self._call("delete_item", timeout, params)

    def _call(self, operation: str, timeout: float, params: dict[str, Any]) -> Any:
        def attempt(remaining: float) -> Any:
            # The store starts no call with less than the last step left, nor does a retry.
            step = attempt_timeout(remaining) or ATTEMPT_TIMEOUTS[-1]
            return getattr(self._client_for(step), operation)(**params)

        return budget.retry_within(timeout, attempt, _retryable, MAX_ATTEMPTS,
                                   min_attempt_seconds=ATTEMPT_TIMEOUTS[-1])


class DynamoDbStore(ProgressStore):
    def __init__(
        self, table: str, endpoint_url: str | None = None, region: str | None = None,
        client: Any = None,
    ) -> None:
        self.table = table
        self.endpoint_url = endpoint_url
        self.region = region
        self._client = client
        self._session: Any = None
        self._clients: dict[float, Any] = {}
        self._lock = threading.Lock()  # a threaded web server may build clients at once
        self.calls: Any = BotocoreCalls(self._client_for)
        if client is None:
            # Credentials in the environment, as on Lambda: our own small client, so the
            # cold start never imports botocore (skill/storage/dynamo_http.py says why). Profiles,
            # SSO, instance roles and SnapStart's container credentials stay with botocore.
            from skill.storage.dynamo_http import client_from_environment

            self.calls = client_from_environment(endpoint_url, region) or self.calls

    def _client_for(self, timeout: float) -> Any:
        """The injected client, or ours whose connect/read timeouts fit `timeout`."""
        if self._client is not None:
            return self._client
        with self._lock:
            if timeout not in self._clients:
                from botocore.config import Config
                from botocore.session import get_session

                # One session for all: it keeps the parsed service model, so a further
                # client (a timeout step first needed mid-turn) costs ~10 ms, not ~400 ms.
                self._session = self._session or get_session()
                self._clients[timeout] = self._session.create_client(
                    "dynamodb",
                    endpoint_url=self.endpoint_url,
                    region_name=self.region or "us-east-1",
                    config=Config(connect_timeout=min(CONNECT_TIMEOUT, timeout),
                                  read_timeout=timeout, retries={"total_max_attempts": 1}),
                )
            return self._clients[timeout]

    def _call(self, operation: str, **kwargs: Any) -> Any:
        """One call within the turn's budget. Every AWS failure becomes a StoreError, and the
        caller keeps the session going; a timeout is noted, so the turn skips optional calls."""
        deadline = budget.current()
        remaining = deadline.remaining()
        if remaining < budget.MIN_CALL_SECONDS:
            raise StoreError(f"dynamodb {operation} skipped: the turn's time budget is spent")
        try:
            return getattr(self.calls, operation)(
                TableName=self.table, timeout=remaining, **kwargs)
        except StoreError as error:
            # skill/storage/dynamo_http.py's failures are StoreErrors already (a refused condition
            # too, which put() tells apart); botocore is not imported for them.
            if budget.is_timeout(error):
                deadline.record_timeout()
            raise
        except Exception as error:
            from botocore.exceptions import BotoCoreError, ClientError

            if not isinstance(error, ClientError | BotoCoreError):
                raise
            if budget.is_timeout(error):
                deadline.record_timeout()
            if isinstance(error, ClientError) and error.response.get("Error", {}).get(
                    "Code") == "ConditionalCheckFailedException":
                raise
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
