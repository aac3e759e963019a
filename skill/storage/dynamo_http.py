"""A small DynamoDB client for the three calls the store makes, on the standard library.

Why not botocore on Lambda: importing botocore and building a DynamoDB client (its JSON
service models and endpoint rules) was ~0.2 s of a ~0.25 s cold start, more than all of our
own code, and Lambda runs that phase on a fraction of a vCPU. GetItem, PutItem and
DeleteItem need only DynamoDB's JSON protocol (a POST with an `X-Amz-Target` header),
Signature Version 4 (hashlib/hmac) and a kept-alive HTTP/1.1 connection that warm
invocations reuse (skill/storage/http1.py). botocore stays for what this does not do: credentials that are not in
the environment (profiles, SSO, instance roles, SnapStart's container credentials),
partitions with other endpoints, proxies; `client_from_environment` returns None there.

The call API mirrors botocore's client methods (`get_item(TableName=..., Key=...)`, the
same response dicts, `client.exceptions.ConditionalCheckFailedException`), so the store can
use either. Every call takes `timeout`, the seconds left in the turn: attempts, their
socket timeouts and the jittered back-off between them all fit inside it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple
from urllib.parse import quote, urlsplit

from skill.ops import budget
from skill.storage.http1 import Answer, Connection
from skill.storage.store import StoreError

logger = logging.getLogger(__name__)

SERVICE = "dynamodb"
API_VERSION = "DynamoDB_20120810"
CONTENT_TYPE = "application/x-amz-json-1.0"
ALGORITHM = "AWS4-HMAC-SHA256"
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"
DEFAULT_REGION = "us-east-1"
# The same bounds as the botocore client's settings: a connect that takes longer than 0.5 s
# or a read longer than 1 s is a lost attempt, retried while the turn has time left.
CONNECT_TIMEOUT_S = 0.5
READ_TIMEOUT_S = 1.0
MAX_ATTEMPTS = 3
# Used only when a caller gives no budget: as long as Alexa's whole turn budget.
DEFAULT_TIMEOUT_S = 3.0
# Error codes that mean "try again later", as botocore's standard retry mode treats them.
THROTTLING_CODES = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)
# Headers SigV4 must not sign (botocore's list for the headers we could ever send).
UNSIGNED_HEADERS = frozenset({"connection", "expect", "user-agent", "x-amzn-trace-id"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class DynamoDbError(StoreError):
    """A DynamoDB call failed; `code` is DynamoDB's error code (or the connection failure).

    `response` has botocore's ClientError shape (Error.Code, Error.Message, the HTTP status
    and any extra fields of the error body, such as the item a failed condition returns), so
    code written against botocore's errors reads ours the same way.
    """

    def __init__(self, operation: str, code: str, message: str, status: int | None = None,
                 extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(f"dynamodb {operation} failed: {code}: {message}")
        self.operation = operation
        self.code = code
        self.status = status
        self.response: dict[str, Any] = {
            **(extra or {}),
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }

    @property
    def retryable(self) -> bool:
        """Throttling, a server-side fault or no answer at all: worth another attempt."""
        return self.code in THROTTLING_CODES or self.status is None or self.status >= 500


class ConditionalCheckFailed(DynamoDbError):
    """The write's condition did not hold (another device wrote first): the store merges."""


class _Exceptions:
    """`client.exceptions.X`, as on a botocore client, for the one error callers catch."""

    ConditionalCheckFailedException = ConditionalCheckFailed


class Credentials(NamedTuple):
    """An access key pair, with the session token temporary credentials carry."""

    access_key: str
    secret_key: str
    token: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Credentials | None:
        """Lambda's credentials of the execution role (None when they are not there)."""
        access_key = environ.get("AWS_ACCESS_KEY_ID")
        secret_key = environ.get("AWS_SECRET_ACCESS_KEY")
        if not access_key or not secret_key:
            return None
        return cls(access_key, secret_key, environ.get("AWS_SESSION_TOKEN") or None)


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def host_header(url: str) -> str:
    """The Host value SigV4 signs: lower-case host, the port only when not the default."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    return host if parts.port in (None, default_port) else f"{host}:{parts.port}"


def sign(method: str, url: str, headers: Mapping[str, str], body: bytes,
         credentials: Credentials, region: str, now: datetime) -> dict[str, str]:
    """The headers that sign a request with Signature Version 4 (X-Amz-Date, the session
    token when there is one, Authorization); `headers` are those the request sends.

    One instant (`now`) gives both the timestamp and the date of the credential scope, so a
    request signed at midnight cannot mix two days.
    """
    timestamp = now.astimezone(UTC).strftime(TIMESTAMP_FORMAT)
    added = {"X-Amz-Date": timestamp}
    if credentials.token:
        added["X-Amz-Security-Token"] = credentials.token
    signed = {name.lower(): value for name, value in {**headers, **added}.items()
              if name.lower() not in UNSIGNED_HEADERS}
    signed.setdefault("host", host_header(url))
    names = sorted(signed)
    canonical_request = "\n".join([
        method.upper(),
        quote(urlsplit(url).path or "/", safe="/~"),
        "",  # DynamoDB's JSON protocol sends no query string
        "".join(f"{name}:{' '.join(signed[name].split())}\n" for name in names),
        ";".join(names),
        hashlib.sha256(body).hexdigest(),
    ])
    scope = f"{timestamp[:8]}/{region}/{SERVICE}/aws4_request"
    string_to_sign = "\n".join([
        ALGORITHM, timestamp, scope, hashlib.sha256(canonical_request.encode()).hexdigest()
    ])
    key = _hmac(f"AWS4{credentials.secret_key}".encode(), timestamp[:8])
    for part in (region, SERVICE, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    added["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return added


def endpoint_for(region: str, environ: Mapping[str, str]) -> str | None:
    """DynamoDB's public endpoint in the standard and China partitions; None (use botocore)
    for FIPS or dual-stack endpoints and the isolated partitions, whose names differ."""
    if environ.get("AWS_USE_FIPS_ENDPOINT", "").lower() == "true":
        return None
    if environ.get("AWS_USE_DUALSTACK_ENDPOINT", "").lower() == "true" or "-iso" in region:
        return None
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://{SERVICE}.{region}.{suffix}"


def _behind_proxy(url: str, environ: Mapping[str, str]) -> bool:
    """A proxy is configured for this endpoint: botocore knows how to use one, we do not."""
    parts = urlsplit(url)
    if parts.hostname in LOOPBACK_HOSTS:
        return False
    names = (f"{parts.scheme}_proxy", f"{parts.scheme.upper()}_PROXY")
    return any(environ.get(name) for name in names)


def client_from_environment(endpoint_url: str | None, region: str | None,
                            environ: Mapping[str, str] | None = None) -> DynamoDbHttpClient | None:
    """Our client when the environment has what it needs (as on Lambda), else None."""
    environ = os.environ if environ is None else environ
    credentials = Credentials.from_environment(environ)
    region = region or DEFAULT_REGION
    url = endpoint_url or endpoint_for(region, environ)
    if credentials is None or url is None or _behind_proxy(url, environ):
        return None
    return DynamoDbHttpClient(url, region, credentials)


class DynamoDbHttpClient:
    """GetItem, PutItem and DeleteItem over one kept-alive connection per thread."""

    exceptions = _Exceptions

    def __init__(self, endpoint_url: str, region: str, credentials: Credentials, *,
                 sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        parts = urlsplit(endpoint_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) endpoint: {endpoint_url!r}")
        self.endpoint_url = endpoint_url
        self.region = region
        self.credentials = credentials
        self._path = parts.path or "/"
        self._host = host_header(endpoint_url)
        self._sleep = sleep
        self._monotonic = monotonic
        # A waitress server may share one store between threads; a connection is not shared.
        self._local = threading.local()

    def get_item(self, *, timeout: float | None = None, **params: Any) -> dict[str, Any]:
        return self._call("GetItem", params, timeout)

    def put_item(self, *, timeout: float | None = None, **params: Any) -> dict[str, Any]:
        return self._call("PutItem", params, timeout)

    def delete_item(self, *, timeout: float | None = None, **params: Any) -> dict[str, Any]:
        return self._call("DeleteItem", params, timeout)

    def close(self) -> None:
        """Drop this thread's connection (the next call opens a new one)."""
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
        self._local.connection = None

    def _call(self, operation: str, params: dict[str, Any],
              timeout: float | None) -> dict[str, Any]:
        """Attempts until one answers, the error is final, or the budget is spent, with
        the jittered back-off every outside call uses (skill/ops/budget.py)."""
        body = json.dumps(params, separators=(",", ":")).encode("utf-8")
        seconds = DEFAULT_TIMEOUT_S if timeout is None else timeout
        if seconds <= 0:
            raise DynamoDbError(operation, "TimeBudgetSpent", "no time left for a first attempt")
        attempts = 0

        def attempt(remaining: float) -> dict[str, Any]:
            nonlocal attempts
            attempts += 1
            return self._attempt(operation, body, remaining, attempts - 1)

        def retrying(error: Exception, number: int) -> None:
            logger.info("dynamodb %s attempt %d: %s; retrying", operation, number,
                        getattr(error, "code", type(error).__name__))

        # Any time left is worth an attempt: each one's socket timeouts are cut to it.
        return budget.retry_within(
            seconds, attempt, lambda error: isinstance(error, DynamoDbError) and error.retryable,
            MAX_ATTEMPTS, min_attempt_seconds=0.0, sleep=self._sleep, clock=self._monotonic,
            on_retry=retrying)

    def _attempt(self, operation: str, body: bytes, remaining: float,
                 attempt: int) -> dict[str, Any]:
        """One request and its answer; any failure is a DynamoDbError."""
        headers = {
            "Host": self._host,
            "Content-Type": CONTENT_TYPE,
            "X-Amz-Target": f"{API_VERSION}.{operation}",
        }
        headers.update(sign("POST", self.endpoint_url, headers, body, self.credentials,
                            self.region, datetime.now(UTC)))
        try:
            connection = self._connection(remaining)
            answer = connection.exchange("POST", self._path, headers, body,
                                         min(READ_TIMEOUT_S, remaining))
        except OSError as failure:
            # A kept-alive connection the server closed, a refused connect, a timeout, an
            # answer cut short: the connection is in an unknown state, so the next attempt
            # opens a fresh one.
            self.close()
            raise DynamoDbError(operation, type(failure).__name__, str(failure)) from failure
        if answer.will_close:
            self.close()
        return _parsed(operation, answer, attempt)

    def _connection(self, remaining: float) -> Connection:
        """This thread's open connection, or a new one (its connect cut to the budget left)."""
        connection: Connection | None = getattr(self._local, "connection", None)
        if connection is None or connection.sock is None:
            parts = urlsplit(self.endpoint_url)
            connection = Connection(parts.hostname or "", parts.port, parts.scheme == "https",
                                    min(CONNECT_TIMEOUT_S, remaining))
            self._local.connection = connection
        return connection


def _parsed(operation: str, response: Answer, attempt: int) -> dict[str, Any]:
    """The decoded answer, or the DynamoDbError it stands for."""
    payload = response.body
    checksum = response.headers.get("x-amz-crc32")
    if checksum is not None and int(checksum) != zlib.crc32(payload):
        # A damaged answer: DynamoDB's checksum exists so clients retry rather than trust it.
        raise DynamoDbError(operation, "ChecksumMismatch", "response CRC32 did not match")
    try:
        decoded = json.loads(payload) if payload else {}
    except ValueError as failure:
        raise DynamoDbError(operation, "UnreadableResponse", str(failure),
                            response.status) from failure
    if response.status == 200 and isinstance(decoded, dict):
        decoded["ResponseMetadata"] = {
            "HTTPStatusCode": 200,
            "RequestId": response.headers.get("x-amzn-requestid"),
            "RetryAttempts": attempt,
        }
        return decoded
    fields = decoded if isinstance(decoded, dict) else {}
    code = str(fields.pop("__type", f"HTTP{response.status}")).rpartition("#")[2]
    message = str(fields.pop("message", fields.pop("Message", response.reason)))
    error_class = ConditionalCheckFailed if code == "ConditionalCheckFailedException" \
        else DynamoDbError
    raise error_class(operation, code, message, response.status, fields)
