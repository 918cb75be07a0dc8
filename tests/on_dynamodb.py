"""Run any suite that drives ``testing.harness.Chat`` on the DynamoDB store (moto, in-process) instead of
the in-memory one: ``pytest -p tests.on_dynamodb features``. Every test gets a fresh mock and table.

Scenarios that reach into the in-memory store itself (its change feed for the in-process workers,
its private fields) cannot run this way; on DynamoDB those jobs belong to the Streams consumers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import testing.harness as harness
from testing.aws import TABLE, moto_table

_chat_init = harness.Chat.__init__


def _on_dynamodb(
    self: harness.Chat, container: Any = None, env: dict[str, str] | None = None, **kwargs: Any
) -> None:
    _chat_init(
        self, container, {"SESSION_STORE": "dynamodb", "SESSION_TABLE": TABLE, **(env or {})}, **kwargs
    )


@pytest.fixture(autouse=True)
def _dynamodb_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    monkeypatch.setattr(harness.Chat, "__init__", _on_dynamodb)
    with moto_table():
        yield
