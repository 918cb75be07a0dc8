"""The adversarial suite writes what it tried and found to artifacts/adversarial-report.json."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.adversarial.frame_checks import Neighbour
from tests.adversarial.ledger import LEDGER
from tests.adversarial.systems import StrictChat, dynamodb_chat, memory_chat


@pytest.fixture
def memory() -> Iterator[tuple[StrictChat, Neighbour]]:
    """A system on the in-memory store, with a neighbouring customer whose session must stay intact."""
    with memory_chat() as chat:
        yield chat, Neighbour.open(chat)


@pytest.fixture
def dynamodb() -> Iterator[tuple[StrictChat, Neighbour]]:
    """The same on the DynamoDB store (moto, in process)."""
    with dynamodb_chat() as chat:
        yield chat, Neighbour.open(chat)


@pytest.fixture(autouse=True)
def _no_account_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's account-id endpoints would route around moto's in-process mock."""
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")


def pytest_sessionfinish() -> None:  # pluggy passes a hook only the arguments it names
    if not LEDGER.empty:
        LEDGER.write()
