"""DynamoDB on moto: in-process (``mock_aws``) for speed, over HTTP (a moto server) where the test is
about the wire. Every test gets fresh tables and a fresh container, so no cached client outlives it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from adapters.dynamodb.table import create_table
from testing.aws import REGION, TABLE, LocalMotoServer, moto_table
from testing.fakes import ManualClock
from testing.harness import Chat

DYNAMODB_ENV = {"SESSION_STORE": "dynamodb", "SESSION_TABLE": TABLE}


@pytest.fixture(scope="session")
def moto_server() -> Iterator[LocalMotoServer]:
    server = LocalMotoServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def moto_endpoint(moto_server: LocalMotoServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """The server, emptied, and boto3 pointed at it through its own environment variable."""
    moto_server.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.url)
    return moto_server.url


@pytest.fixture
def table(moto_endpoint: str) -> Any:
    """A plain boto3 client on the server's freshly created table: what the tests read back with."""
    client = boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name=REGION)
    create_table(client, TABLE)
    return client


@pytest.fixture
def in_process_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")  # moto's Streams, in-process
    with moto_table() as client:
        yield client


def close(chat: Chat) -> None:
    repository = chat.container.adapters.repository()
    chat.close()
    repository.close()


@pytest.fixture
def dynamodb_chat(in_process_table: Any, clock: ManualClock) -> Iterator[Chat]:  # noqa: ARG001 - the table first
    """The real handlers on the DynamoDB store (moto in-process), with a clock the test moves."""
    chat = Chat(env=dict(DYNAMODB_ENV), clock=clock)
    yield chat
    close(chat)
