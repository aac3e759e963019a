"""Run `dynalite` (a DynamoDB-compatible HTTP server from npm) for integration tests.

Why: moto's in-process mock accepts things real DynamoDB rejects (wrong key types, bad table
names, oversized items). dynalite validates those like DynamoDB, so the storage code is also
exercised against it over real HTTP on 127.0.0.1.

Nothing is installed at test time: `make test` / `.ci/run` run
`npm ci --prefix tests/dynalite --ignore-scripts` from the committed package-lock.json. When node
or the installed dynalite is missing, the `dynalite_endpoint` fixture skips locally but fails
under `CI=true`, so a CI that forgot the install step cannot go green by skipping.

tests/conftest.py registers this module as a pytest plugin, so any test can ask for the
`dynalite_endpoint` fixture. The server is started once per test process (a module-level
cache shares one server between every user of the fixture).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tests.child_process import ChildProcess, free_port, missing_node_package, skip_or_fail

DYNALITE_DIR = Path(__file__).resolve().parent / "dynalite"
DYNALITE_CLI = DYNALITE_DIR / "node_modules" / "dynalite" / "cli.js"
INSTALL_COMMAND = "npm ci --prefix tests/dynalite --ignore-scripts"
START_TIMEOUT_S = 15.0
REGION = "us-east-1"

# CloudFormation AWS::DynamoDB::Table properties passed straight to CreateTable (same shape).
_CREATE_TABLE_KEYS = (
    "KeySchema",
    "AttributeDefinitions",
    "BillingMode",
    "ProvisionedThroughput",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
)
# Properties that do not change how items are stored or validated; a test table ignores them.
_IGNORED_KEYS = frozenset(
    {
        "TableName",  # replaced by a unique name so tests never collide
        "Tags",
        "SSESpecification",
        "PointInTimeRecoverySpecification",
        "DeletionProtectionEnabled",
        "StreamSpecification",
        "TableClass",
        "ContributorInsightsSpecification",
    }
)


def dynamodb_client(endpoint_url: str) -> Any:
    """Return a boto3 DynamoDB client for a local endpoint.

    Dummy credentials keep any real AWS profile out of the tests; short timeouts and no retries
    make a dead server fail fast instead of hanging the suite; `proxies={}` stops botocore from
    sending 127.0.0.1 traffic through an HTTP(S)_PROXY from the environment.
    """
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(
            connect_timeout=2,
            read_timeout=5,
            retries={"total_max_attempts": 1},
            proxies={},
        ),
    )


@dataclass
class DynaliteServer(ChildProcess):
    """A running dynalite child process and where to reach it."""

    _stopped: bool = field(default=False, repr=False)

    @property
    def endpoint_url(self) -> str:
        """The HTTP URL to hand to boto3 as `endpoint_url`."""
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Idempotent, so both the fixture teardown and the atexit safety net may call it."""
        if self._stopped:
            return
        self._stopped = True
        self.terminate()
        with contextlib.suppress(OSError):
            self.log_path.unlink()


def missing_prerequisite() -> str | None:
    """Say what is missing to run dynalite here, or None when node and dynalite are present."""
    return missing_node_package(DYNALITE_CLI, "dynalite", INSTALL_COMMAND)


def _answers(server: DynaliteServer) -> bool:
    """True once the port accepts a TCP connection and DynamoDB ListTables succeeds."""
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=0.5):
            pass
    except OSError:
        return False
    try:
        dynamodb_client(server.endpoint_url).list_tables(Limit=1)
    except (BotoCoreError, ClientError):
        return False
    return True


def _launch(port: int) -> DynaliteServer:
    node = shutil.which("node")
    if node is None:
        raise RuntimeError(missing_prerequisite())
    fd, log_name = tempfile.mkstemp(prefix="dynalite-", suffix=".log")
    with os.fdopen(fd, "wb") as log:
        process = subprocess.Popen(
            [
                node,
                str(DYNALITE_CLI),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--createTableMs",
                "0",
                "--deleteTableMs",
                "0",
                "--updateTableMs",
                "0",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=DYNALITE_DIR,
        )
    return DynaliteServer(process=process, port=port, log_path=Path(log_name))


def start_dynalite(timeout_s: float = START_TIMEOUT_S, attempts: int = 3) -> DynaliteServer:
    """Start dynalite in memory on a free port and wait until it answers DynamoDB calls.

    No `--path` is given, so dynalite keeps data in memory (memory-level) and every run starts
    empty. A port lost to another process between probing and binding is retried on a new port.
    """
    problem = missing_prerequisite()
    if problem is not None:
        raise RuntimeError(problem)
    last_error = ""
    for _ in range(attempts):
        server = _launch(free_port())
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                break
            if _answers(server):
                atexit.register(server.stop)  # safety net for callers that forget stop()
                return server
            time.sleep(0.05)
        log = server.log_text()
        exit_code = server.process.poll()
        server.stop()
        if exit_code is None:
            raise RuntimeError(
                f"dynalite did not answer on {server.endpoint_url} within {timeout_s:.0f} s; "
                f"log:\n{log}"
            )
        last_error = f"dynalite exited with code {exit_code}; log:\n{log}"
        if "EADDRINUSE" not in log:
            break
    raise RuntimeError(last_error)


_lock = threading.Lock()
_shared: DynaliteServer | None = None
_users = 0


def _acquire() -> DynaliteServer:
    global _shared, _users
    with _lock:
        if _shared is None:
            _shared = start_dynalite()
        _users += 1
        return _shared


def _release() -> None:
    global _shared, _users
    with _lock:
        _users -= 1
        if _users == 0 and _shared is not None:
            _shared.stop()
            _shared = None


@pytest.fixture(scope="session")
def dynalite_endpoint() -> Iterator[str]:
    """Yield the URL of a dynalite server shared by the whole test session.

    Missing node/dynalite skips the test locally (a developer may not have node) but fails under
    CI=true, where a skipped integration suite would hide a broken install step.
    """
    problem = missing_prerequisite()
    if problem is not None:
        skip_or_fail(f"dynalite integration tests need a local DynamoDB server: {problem}")
    server = _acquire()
    try:
        yield server.endpoint_url
    finally:
        _release()


def create_table(client: Any, definition: dict[str, Any], prefix: str = "test") -> str:
    """Create a table from a CloudFormation-style definition and return its unique name.

    Taking the template's own Properties dict keeps the tests on the same key schema as the
    deployed table. TimeToLiveSpecification is applied with UpdateTimeToLive when the server
    supports it; dynalite 4.0.0 does not (it answers UnknownOperationException), so there the
    call is skipped: TTL expiry is AWS-side housekeeping that no local test can observe anyway.
    Unknown properties raise, so a template change that matters is not silently dropped.
    """
    unknown = set(definition) - set(_CREATE_TABLE_KEYS) - _IGNORED_KEYS
    unknown.discard("TimeToLiveSpecification")
    if unknown:
        raise ValueError(f"create_table does not know how to apply: {sorted(unknown)}")

    name = f"{prefix}-{uuid.uuid4().hex[:12]}"
    params: dict[str, Any] = {k: definition[k] for k in _CREATE_TABLE_KEYS if k in definition}
    client.create_table(TableName=name, **params)
    deadline = time.monotonic() + 10
    while client.describe_table(TableName=name)["Table"]["TableStatus"] != "ACTIVE":
        if time.monotonic() > deadline:
            raise RuntimeError(f"table {name} did not become ACTIVE")
        time.sleep(0.05)

    ttl = definition.get("TimeToLiveSpecification")
    if ttl:
        try:
            client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={
                    "AttributeName": ttl["AttributeName"],
                    "Enabled": str(ttl.get("Enabled", False)).lower() == "true",
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "UnknownOperationException":
                raise
    return name
