"""A local DynamoDB (dynalite on 127.0.0.1) with our table and the hello-world sample's table.

Our table is created from template.yaml's `ProgressTable`, so it has the deployed key
schema; the sample's table has the `id` partition key `DynamoDbAdapter` expects. Child
processes get an environment that points both skills at this server with dummy credentials
and no way to reach AWS (no config files, no instance metadata, no proxy).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from bench.child import HELLO_TABLE_ENV
from tests.dynalite_server import (
    REGION,
    DynaliteServer,
    create_table,
    dynamodb_client,
    missing_prerequisite,
    start_dynalite,
)
from tests.template_loader import load_template, resource

HELLO_TABLE_DEFINITION = {
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}
# Variables that could send a child to real AWS or through a proxy; the child env drops them.
_UNSAFE_PREFIXES = ("AWS_", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")


@dataclass
class LocalDynamo:
    """The running server, a client on it, and the two tables."""

    server: DynaliteServer
    client: Any
    ours_table: str
    hello_table: str

    @property
    def endpoint_url(self) -> str:
        return self.server.endpoint_url

    def child_env(self) -> dict[str, str]:
        """The environment a cold-start or memory child runs in (both skills, same server)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(_UNSAFE_PREFIXES)}
        env.pop("FOOT_ROUTINE_DB", None)
        env.update(
            {
                "PROGRESS_TABLE": self.ours_table,
                "DYNAMODB_ENDPOINT_URL": self.endpoint_url,
                "AWS_ENDPOINT_URL_DYNAMODB": self.endpoint_url,  # the sample's default resource
                "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench",
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true",
                "NO_PROXY": "127.0.0.1,localhost",
                HELLO_TABLE_ENV: self.hello_table,
                # No Alexa API here: our Lambda module would otherwise look up the time zone.
                "ALEXA_API_CALLS": "0",
            }
        )
        return env

    def stop(self) -> None:
        self.server.stop()


def start_local_dynamo() -> LocalDynamo:
    """Start dynalite and create both tables; RuntimeError says what is missing."""
    problem = missing_prerequisite()
    if problem is not None:
        raise RuntimeError(problem)
    server = start_dynalite()
    try:
        client = dynamodb_client(server.endpoint_url)
        ours = resource(load_template(), "ProgressTable")["Properties"]
        return LocalDynamo(
            server=server,
            client=client,
            ours_table=create_table(client, ours, prefix="bench-progress"),
            hello_table=create_table(client, HELLO_TABLE_DEFINITION, prefix="bench-hello"),
        )
    except Exception:
        server.stop()
        raise


def seed_hello_user(local: LocalDynamo, user_id: str) -> None:
    """A returning user of the sample: an item in the adapter's `id` / `attributes` shape."""
    local.client.put_item(
        TableName=local.hello_table,
        Item={"id": {"S": user_id}, "attributes": {"M": {"visits": {"N": "3"}}}},
    )
