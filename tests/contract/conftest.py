"""The two session stores behind one fixture, so that the fake can never drift from the real one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from adapters.dynamodb.connections import ConnectionIndex
from adapters.dynamodb.errors import Backoff
from adapters.dynamodb.reads import TableReads
from adapters.dynamodb.repository import DynamoDBSessionRepository
from adapters.memory import InMemorySessionRepository
from testing.aws import TABLE, moto_table


def no_sleep(_: float) -> None:
    pass


@pytest.fixture(params=["memory", "dynamodb"])
def repo(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    if request.param == "memory":
        yield InMemorySessionRepository()
        return
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    with moto_table() as client:
        lookups = ConnectionIndex(TableReads(client, TABLE), Backoff(3, sleep=no_sleep))
        dynamodb = DynamoDBSessionRepository(TABLE, client, Backoff(sleep=no_sleep), lookups)
        yield dynamodb
        dynamodb.close()
