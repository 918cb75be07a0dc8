"""The DynamoDB adapter (the container's own, on moto in-process) under throttling, 5xx, lost answers
and throttled transactions on each call of the message path, at its first or second call, for one
attempt or for an outage longer than botocore's retries. The customer retries; nothing is lost or
duplicated, and the reads still tell the whole conversation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.retries.standard import ExponentialBackoff
from dependency_injector import providers
from moto import mock_aws

from adapters.dynamodb.client import dynamodb_client
from adapters.dynamodb.table import create_table
from application.errors import ModelUnavailable
from testing.aws import REGION
from testing.fakes import ListRetryQueue, ManualClock
from tests.adversarial.customer import Customer, audit
from tests.adversarial.dynamodb_faults import (
    KINDS,
    OPERATIONS,
    SINGLE_WRITE_ONLY,
    SINGLE_WRITES,
    TRANSACTION_ONLY,
    DynamoDBFaults,
)
from tests.adversarial.systems import StrictChat, chat_on_table, fresh_id

ATTEMPTS = {"blip": 1, "outage": 5}  # an outage outlasts botocore's 3 attempts of one call
# After arming, TransactWriteItems is called to store m-1 (1), again on its retry (2), to take m-1's lease
# and the session's turn back for that retry (3), to store its reply (4); the other operations are
# reached at least twice. Without a retry queue only the reply's write behaves differently.
POSITIONS = {"TransactWriteItems": (1, 2, 3, 4), "Query": (1, 2), "GetItem": (1, 2), "UpdateItem": (1, 2)}
REPLY_WRITE = ("TransactWriteItems", 4)
CASES = [
    (operation, kind, position, duration, True)
    for operation in OPERATIONS
    for kind in KINDS
    if kind not in TRANSACTION_ONLY or operation == "TransactWriteItems"
    if kind not in SINGLE_WRITE_ONLY or operation in SINGLE_WRITES
    for position in POSITIONS[operation]
    for duration in ATTEMPTS
]
CASES += [(o, k, p, d, False) for o, k, p, d, _ in CASES if (o, p) == REPLY_WRITE]


@pytest.fixture(autouse=True)
def _no_botocore_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda _self, _context: 0)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="module")
def moto() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
        with mock_aws():
            yield


@pytest.fixture
def chat(moto: None, clock: ManualClock) -> Iterator[StrictChat]:  # noqa: ARG001 - after the mock starts
    """A table of its own for each test: moto copies a whole table in every transaction."""
    table = fresh_id("faults-").rstrip("=")
    client = dynamodb_client(region=REGION)
    create_table(client, table)
    try:
        with chat_on_table(clock=clock, env={"SESSION_TABLE": table}) as system:
            yield system
    finally:
        client.delete_table(TableName=table)


@pytest.mark.parametrize(
    ("operation", "kind", "position", "duration", "with_queue"),
    CASES,
    ids=[f"{o}-{k}-call {p}-{d}{'' if q else '-no retry queue'}" for o, k, p, d, q in CASES],
)
def test_dynamodb_failing(
    chat: StrictChat,
    clock: ManualClock,
    operation: str,
    kind: str,
    position: int,
    duration: str,
    with_queue: bool,
) -> None:
    queue = ListRetryQueue() if with_queue else None
    chat.container.adapters.retry_queue.override(providers.Object(queue))
    faults = DynamoDBFaults().install(chat.container.adapters.dynamodb_client())
    customer = Customer(chat, clock).connect()
    customer.ask("warm-up")
    faults.arm(operation, kind, position, ATTEMPTS[duration])
    chat.llm.fail_next(ModelUnavailable("injected"))  # so that the lease is given back and taken again

    customer.ask("m-1")
    customer.ask("m-2")
    session, history = customer.read("session"), customer.read("history")  # reads under the fault too

    fired = faults.disarm()
    assert fired, f"{operation} was called {faults.calls[operation]} times: the fault never fired"
    assert session["session_id"] == customer.session_id
    queued = len(queue.items) if queue is not None else 0
    if (operation, position) == REPLY_WRITE and duration == "outage" and queue is not None:
        assert queued, "the reply's write failed for good, yet nothing went to the retry queue"
    # A reply in the queue shows once the turn writer ran (unless its write landed, its answer lost).
    assert len(history["turns"]) == 6 - (queued if kind != "lost response" else 0)
    audit(customer, "DynamoDB (moto)", f"{operation}: {kind}, call {position}, {duration}", queue)
    contents = [t["content"] for t in customer.read("history")["turns"]]
    assert len(contents) == 6 and contents[::2] == [customer.asked[m] for m in ("warm-up", "m-1", "m-2")]
    chat.container.adapters.retry_queue.reset_override()
