"""skill/storage/dynamo_http.py: our SigV4 signer against botocore's, the client against dynalite, and
its retries against a scripted server that throttles, fails, drops and hangs.

Why botocore decides: dynalite does not check signatures, so a signing bug would pass every
local test and fail only on AWS. botocore's `SigV4Auth` is the reference implementation;
ours must produce byte-identical headers for the same request at the same instant.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from unittest import mock

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotocoreCredentials
from hypothesis import given, settings
from hypothesis import strategies as st

from skill.ops import budget
from skill.storage.dynamo_http import (
    MAX_ATTEMPTS,
    ConditionalCheckFailed,
    Credentials,
    DynamoDbError,
    DynamoDbHttpClient,
    client_from_environment,
    endpoint_for,
    sign,
)
from skill.storage.store import StoreError
from tests.dynalite_server import dynamodb_client
from tests.storage import stored_item, template_table

HEADERS = {
    "Content-Type": "application/x-amz-json-1.0",
    "X-Amz-Target": "DynamoDB_20120810.GetItem",
}
SIGNATURE_HEADERS = ("Authorization", "X-Amz-Date", "X-Amz-Security-Token")


def botocore_signed(method: str, url: str, headers: dict[str, str], body: bytes,
                    credentials: Credentials, region: str, now: datetime) -> dict[str, str]:
    """botocore's SigV4 headers for the request, its clock stopped at `now`."""
    request = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
    reference = BotocoreCredentials(credentials.access_key, credentials.secret_key,
                                    credentials.token)
    naive_utc = now.astimezone(UTC).replace(tzinfo=None)  # what botocore's clock returns
    with mock.patch("botocore.auth.get_current_datetime", return_value=naive_utc):
        SigV4Auth(reference, "dynamodb", region).add_auth(request)
    return {name: request.headers[name] for name in SIGNATURE_HEADERS if name in request.headers}


def assert_signed_alike(method: str, url: str, headers: dict[str, str], body: bytes,
                        credentials: Credentials, region: str, now: datetime) -> None:
    ours = sign(method, url, headers, body, credentials, region, now)
    assert ours == botocore_signed(method, url, headers, body, credentials, region, now)


KEY = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
SESSION = Credentials("ASIAEXAMPLE", "se/cr+et=", "IQoJb3JpZ2luX2VjE//token+with/odd==chars")
ODD_USER = "amzn1.ask.account.ÄÖ 😀 \"q\" \\ /+=&?#"
ODD_BODY = json.dumps(
    {"TableName": "progress", "Key": {"user_id": {"S": ODD_USER}}}, ensure_ascii=False
).encode()


@pytest.mark.parametrize(
    ("url", "headers", "body", "credentials", "region", "now"),
    [
        pytest.param("https://dynamodb.us-east-1.amazonaws.com/", HEADERS, b"{}", KEY,
                     "us-east-1", datetime(2024, 5, 1, 12, 0, tzinfo=UTC), id="plain"),
        pytest.param("https://dynamodb.eu-west-1.amazonaws.com", HEADERS, b"", KEY,
                     "eu-west-1", datetime(2024, 5, 1, 12, 0, tzinfo=UTC), id="empty-body-no-path"),
        pytest.param("https://dynamodb.ap-southeast-2.amazonaws.com/", HEADERS, ODD_BODY, SESSION,
                     "ap-southeast-2", datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
                     id="odd-characters-session-token"),
        pytest.param("https://dynamodb.cn-north-1.amazonaws.com.cn/", HEADERS, ODD_BODY, SESSION,
                     "cn-north-1", datetime(2024, 5, 1, 12, 0, tzinfo=UTC), id="china"),
        pytest.param("http://127.0.0.1:8000/", HEADERS, b"{}", KEY, "us-east-1",
                     datetime(2024, 5, 1, 12, 0, tzinfo=UTC), id="local-port"),
        pytest.param("https://dynamodb.us-east-1.amazonaws.com:443/", HEADERS, b"{}", KEY,
                     "us-east-1", datetime(2024, 5, 1, 12, 0, tzinfo=UTC), id="default-port"),
        pytest.param("http://LOCALHOST:8000/a b/~x/", HEADERS, b"{}", KEY, "us-east-1",
                     datetime(2024, 5, 1, 12, 0, tzinfo=UTC), id="path-and-upper-case-host"),
        pytest.param("http://[::1]:8000/", HEADERS, b"{}", KEY, "us-east-1",
                     datetime(2024, 5, 1, 12, 0, tzinfo=UTC), id="ipv6"),
        pytest.param("https://dynamodb.us-west-2.amazonaws.com/",
                     {**HEADERS, "X-Odd": "  spaced   out \t value ", "User-Agent": "not signed"},
                     b"{}", SESSION, "us-west-2", datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
                     id="whitespace-and-unsigned-header"),
        pytest.param("https://dynamodb.us-east-1.amazonaws.com/", HEADERS, ODD_BODY, SESSION,
                     "us-east-1", datetime(2023, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
                     id="last-microsecond-of-the-year"),
        pytest.param("https://dynamodb.us-east-1.amazonaws.com/", HEADERS, ODD_BODY, SESSION,
                     "us-east-1", datetime(2024, 1, 1, 0, 0, tzinfo=UTC), id="new-year-midnight"),
        pytest.param("https://dynamodb.us-east-1.amazonaws.com/", HEADERS, b"{}", KEY,
                     "us-east-1", datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC), id="leap-day"),
        pytest.param("https://dynamodb.eu-central-1.amazonaws.com/", HEADERS, b"{}", KEY,
                     "eu-central-1",
                     datetime(2024, 3, 1, 0, 30, tzinfo=UTC).astimezone(
                         timezone(timedelta(hours=2))),
                     id="local-offset-still-the-previous-utc-day"),
    ],
)
def test_our_signature_is_botocores(url, headers, body, credentials, region, now):
    assert_signed_alike("POST", url, headers, body, credentials, region, now)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    body=st.binary(max_size=300),
    secret=st.text(min_size=1, max_size=40),
    token=st.none() | st.text(min_size=1, max_size=60).filter(str.strip),
    target=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1),
    now=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31),
                     timezones=st.just(UTC)),
    region=st.sampled_from(["us-east-1", "eu-west-1", "ap-northeast-3", "sa-east-1",
                            "cn-northwest-1", "us-gov-west-1"]),
)
def test_any_request_is_signed_as_botocore_signs_it(body, secret, token, target, now, region):
    credentials = Credentials("AKID", secret, token.strip() if token else None)
    headers = {**HEADERS, "X-Amz-Target": target}
    assert_signed_alike("POST", "https://dynamodb.example.com/", headers, body, credentials,
                        region, now)


# --------------------------------------------------------------------- a scripted server


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Script:
    """What the server does for each request, in order; then it answers `{}` with 200."""

    actions: list[Any] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    release: threading.Event = field(default_factory=threading.Event)


def _answer(status: int, payload: dict[str, Any] | str, crc: int | None = None) -> tuple:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return ("answer", status, text.encode(), crc)


OK = _answer(200, {})
THROTTLED = _answer(400, {"__type": "com.amazonaws.dynamodb.v20120810#"
                                    "ProvisionedThroughputExceededException", "message": "slow"})
CONDITION_FAILED = _answer(400, {"__type": "com.amazonaws.dynamodb.v20120810#"
                                           "ConditionalCheckFailedException",
                                 "message": "The conditional request failed",
                                 "Item": {"user_id": {"S": "u"}}})
BAD_GATEWAY_HTML = _answer(502, "<html>bad gateway</html>")
DROP = ("drop",)  # close the connection without answering
HANG = ("hang",)  # never answer (until the test ends)
ANSWER_THEN_CLOSE = ("answer-then-close",)  # 200, then close a connection the client kept


def _handler_for(script: Script) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as DynamoDB

        def setup(self) -> None:
            super().setup()
            script.connections += 1

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # the name http.server calls
            body = self.rfile.read(int(self.headers["Content-Length"]))
            script.received.append(Received(dict(self.headers.items()), body))
            action = script.actions.pop(0) if script.actions else OK
            if action == DROP:
                self.close_connection = True
                return
            if action == HANG:
                script.release.wait(10)
                self.close_connection = True
                return
            if action == ANSWER_THEN_CLOSE:
                action, self.close_connection = OK, True
            _, status, payload, crc = action
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("x-amz-crc32", str(zlib.crc32(payload) if crc is None else crc))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


@pytest.fixture
def scripted() -> Iterator[tuple[Script, str]]:
    script = Script()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(script))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield script, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        script.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


class FakeClock:
    """Time that passes only when the client sleeps, so budgets are exact in tests."""

    def __init__(self) -> None:
        self.now = 100.0
        self.pauses: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


@pytest.fixture
def worst_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    """The longest pause the jitter allows, every time."""
    monkeypatch.setattr(budget._JITTER, "uniform", lambda low, high: high)


def _client(url: str, clock: FakeClock | None = None) -> DynamoDbHttpClient:
    if clock is None:
        return DynamoDbHttpClient(url, "us-east-1", SESSION)
    return DynamoDbHttpClient(url, "us-east-1", SESSION, sleep=clock.sleep,
                              monotonic=clock.monotonic)


def _get(client: DynamoDbHttpClient, timeout: float = 3.0) -> dict[str, Any]:
    return client.get_item(TableName="t", Key={"user_id": {"S": "u"}}, timeout=timeout)


def test_what_is_sent_is_what_botocore_would_sign(scripted):
    script, url = scripted
    client = _client(url)
    client.put_item(TableName="t", Item={"user_id": {"S": "ü 😀"}}, timeout=3)
    (request,) = script.received
    assert request.headers["X-Amz-Target"] == "DynamoDB_20120810.PutItem"
    assert request.headers["Content-Type"] == "application/x-amz-json-1.0"
    assert json.loads(request.body) == {"TableName": "t", "Item": {"user_id": {"S": "ü 😀"}}}
    signed_names = request.headers["Authorization"].split("SignedHeaders=")[1].split(",")[0]
    sent = {name: value for name, value in request.headers.items()
            if name.lower() in signed_names.split(";") and name not in SIGNATURE_HEADERS}
    when = datetime.strptime(request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    expected = botocore_signed("POST", url + "/", sent, request.body, SESSION, "us-east-1", when)
    assert {name: request.headers[name] for name in SIGNATURE_HEADERS} == expected


def test_keeps_one_connection_across_calls(scripted):
    script, url = scripted
    client = _client(url)
    for _ in range(3):
        _get(client)
    assert script.connections == 1 and len(script.received) == 3


def test_a_connection_the_server_dropped_is_reopened(scripted):
    script, url = scripted
    script.actions = [ANSWER_THEN_CLOSE]  # as DynamoDB closes an idle connection
    client = _client(url)
    _get(client)
    assert _get(client)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert script.connections == 2


@pytest.mark.parametrize("fault", [THROTTLED, BAD_GATEWAY_HTML, DROP, _answer(200, {}, crc=1)],
                         ids=["throttled", "5xx-html", "dropped", "damaged"])
def test_a_passing_fault_is_retried(scripted, worst_jitter, fault):
    script, url = scripted
    script.actions = [fault]
    clock = FakeClock()
    response = _get(_client(url, clock))
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert len(script.received) == 2
    assert clock.pauses == [budget.BACKOFF_BASE_SECONDS]


def test_throttling_that_lasts_ends_after_the_last_attempt(scripted, worst_jitter):
    script, url = scripted
    script.actions = [THROTTLED] * 10
    clock = FakeClock()
    with pytest.raises(DynamoDbError) as raised:
        _get(_client(url, clock), timeout=60)
    assert raised.value.code == "ProvisionedThroughputExceededException"
    assert isinstance(raised.value, StoreError)
    assert len(script.received) == MAX_ATTEMPTS
    assert clock.pauses == [budget.BACKOFF_BASE_SECONDS * 2**n for n in range(MAX_ATTEMPTS - 1)]


def test_retries_stop_when_the_turn_budget_is_spent(scripted, worst_jitter):
    script, url = scripted
    script.actions = [THROTTLED] * 10
    clock = FakeClock()
    seconds = budget.BACKOFF_BASE_SECONDS * 1.5  # room for the first pause, not the second
    with pytest.raises(DynamoDbError):
        _get(_client(url, clock), timeout=seconds)
    assert len(script.received) == 2
    assert sum(clock.pauses) < seconds


def test_no_budget_left_means_no_request(scripted):
    script, url = scripted
    with pytest.raises(DynamoDbError) as raised:
        _get(_client(url), timeout=0)
    assert raised.value.code == "TimeBudgetSpent" and script.received == []


def test_a_server_that_hangs_costs_the_budget_once(scripted):
    script, url = scripted
    script.actions = [HANG]
    with pytest.raises(DynamoDbError) as raised:
        _get(_client(url), timeout=0.3)  # real clock: the read times out with the budget
    assert raised.value.retryable
    assert len(script.received) == 1


def test_a_failed_condition_is_distinguishable_and_not_retried(scripted):
    script, url = scripted
    script.actions = [CONDITION_FAILED]
    client = _client(url)
    with pytest.raises(client.exceptions.ConditionalCheckFailedException) as raised:
        client.put_item(TableName="t", Item={}, ConditionExpression="attribute_not_exists(k)")
    error = raised.value
    assert isinstance(error, StoreError) and isinstance(error, ConditionalCheckFailed)
    assert error.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert error.response["Item"] == {"user_id": {"S": "u"}}  # as botocore's ClientError has it
    assert len(script.received) == 1


def test_a_refused_connection_is_a_store_error():
    from tests.child_process import free_port

    with pytest.raises(StoreError):
        _get(_client(f"http://127.0.0.1:{free_port()}"), timeout=0.2)


# --------------------------------------------------------------------- against dynalite


@pytest.fixture(scope="module")
def dynalite_table(dynalite_endpoint: str) -> tuple[str, str]:
    return dynalite_endpoint, template_table(dynamodb_client(dynalite_endpoint))


def test_get_put_delete_on_dynalite(dynalite_table):
    endpoint, table = dynalite_table
    client = _client(endpoint)
    key = {"user_id": {"S": "amzn1.ask.account.ÄÖ 😀"}}
    item = {**key, "version": {"N": "1"}, "history": {"L": [{"S": "2024-01-01"}]},
            "done": {"M": {"a": {"BOOL": True}, "b": {"NULL": True}}}}
    assert "Item" not in client.get_item(TableName=table, Key=key, ConsistentRead=True)
    client.put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(#k)",
                    ExpressionAttributeNames={"#k": "user_id"})
    assert client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"] == item
    deleted = client.delete_item(TableName=table, Key=key, ReturnValues="ALL_OLD")
    assert deleted["Attributes"] == item
    assert "Item" not in client.get_item(TableName=table, Key=key, ConsistentRead=True)


def test_a_conditional_put_that_loses_on_dynalite(dynalite_table):
    endpoint, table = dynalite_table
    client = _client(endpoint)
    item = {"user_id": {"S": "two-devices"}, "version": {"N": "2"}}
    client.put_item(TableName=table, Item=item)
    with pytest.raises(ConditionalCheckFailed):
        client.put_item(TableName=table, Item={**item, "version": {"N": "3"}},
                        ConditionExpression="#v = :expected",
                        ExpressionAttributeNames={"#v": "version"},
                        ExpressionAttributeValues={":expected": {"N": "1"}})


def test_dynalite_rejections_are_final_store_errors(dynalite_table):
    endpoint, table = dynalite_table
    client = _client(endpoint)
    with pytest.raises(DynamoDbError) as wrong_key_type:
        client.get_item(TableName=table, Key={"user_id": {"N": "1"}})
    with pytest.raises(DynamoDbError) as no_table:
        client.get_item(TableName="no-such-table", Key={"user_id": {"S": "u"}})
    assert wrong_key_type.value.code == "ValidationException"
    assert no_table.value.code == "ResourceNotFoundException"
    for error in (wrong_key_type.value, no_table.value):
        assert not error.retryable and not isinstance(error, ConditionalCheckFailed)


# --------------------------------------------------------------------- choosing the client


LAMBDA_ENV = {"AWS_ACCESS_KEY_ID": "ASIA", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"}


def test_lambda_environment_gives_our_client():
    client = client_from_environment(None, "eu-west-1", LAMBDA_ENV)
    assert client is not None
    assert client.endpoint_url == "https://dynamodb.eu-west-1.amazonaws.com"
    assert client.credentials == Credentials("ASIA", "s", "t")
    local = client_from_environment("http://127.0.0.1:8000", None,
                                    {**LAMBDA_ENV, "HTTP_PROXY": "http://proxy:3128"})
    assert local is not None and local.region == "us-east-1"


@pytest.mark.parametrize(
    ("endpoint", "region", "environ"),
    [
        (None, "eu-west-1", {}),  # a profile, SSO or an instance role: botocore finds them
        (None, "eu-west-1", {"AWS_ACCESS_KEY_ID": "only-half"}),
        (None, "us-iso-east-1", LAMBDA_ENV),
        (None, "us-east-1", {**LAMBDA_ENV, "AWS_USE_FIPS_ENDPOINT": "true"}),
        (None, "us-east-1", {**LAMBDA_ENV, "HTTPS_PROXY": "http://proxy:3128"}),
    ],
    ids=["no-credentials", "half-credentials", "isolated-partition", "fips", "proxy"],
)
def test_what_we_do_not_handle_is_left_to_botocore(endpoint, region, environ):
    assert client_from_environment(endpoint, region, environ) is None


def test_endpoints_by_partition():
    assert endpoint_for("cn-north-1", {}) == "https://dynamodb.cn-north-1.amazonaws.com.cn"
    assert endpoint_for("us-gov-west-1", {}) == "https://dynamodb.us-gov-west-1.amazonaws.com"


def test_the_client_module_does_not_import_botocore():
    code = "import sys, skill.storage.dynamo_http; print('botocore' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60)
    assert done.stdout.strip() == "False"


# A Lambda cold start in a fresh interpreter: import the handler, answer a launch, start the
# routine and stop (a read and writes), then list the AWS SDK modules that were loaded.
_LAMBDA_COLD_START = r"""
import json, sys
from skill.lambda_function import handler
from skill.tools.envelopes import Device

device = Device(user_id=sys.argv[1], api_endpoint="http://127.0.0.1:9")
spoken = []
# Each envelope is made after the last answer, so it carries the session as a device's does
# (the stop ends it, and its place is written then).
for make in (device.launch, lambda: device.intent("StartRoutineIntent"),
             lambda: device.intent("AMAZON.StopIntent")):
    response = handler(make(), None)
    device.receive(response)
    spoken.append(response["response"]["outputSpeech"]["ssml"])
sdk = sorted(name for name in sys.modules if name.split(".")[0] in ("botocore", "boto3"))
print(json.dumps({"sdk": sdk, "http_client": "http.client" in sys.modules, "spoken": spoken}))
"""


def test_lambda_hot_path_never_imports_botocore(dynalite_table):
    endpoint, table = dynalite_table
    user = "amzn1.ask.account.HOT-PATH"
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("AWS_") and key.lower() not in ("http_proxy", "https_proxy")}
    env.update({
        "PROGRESS_TABLE": table, "DYNAMODB_ENDPOINT_URL": endpoint, "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "ASIATEST", "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_SESSION_TOKEN": "token", "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1", "ALEXA_API_CALLS": "0",
    })
    done = subprocess.run([sys.executable, "-c", _LAMBDA_COLD_START, user], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["sdk"] == [], f"the Lambda path imported {report['sdk']}"
    # Nor http.client, whose import of the email package skill/storage/http1.py avoids.
    assert report["http_client"] is False
    assert not [text for text in report["spoken"] if "went wrong" in text or "can't reach" in text]
    item = stored_item(dynamodb_client(endpoint), table, user)
    assert item is not None, "the turns wrote progress through our client"

