"""Throttling on each write of the message path, through the real handlers on the DynamoDB store:
the customer gets a reply or a clear ``unavailable`` error, and every accepted turn ends up stored
exactly once — directly, on the client's retry, or through the retry queue."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from dependency_injector import providers

from adapters.memory_retry_queue import InMemoryRetryQueue
from application.replay import Replayed
from testing.aws import partition_items
from testing.fakes import ManualClock
from testing.harness import Chat
from tests.dynamodb.faults import (
    InjectedFaults,
    lease_release,
    record_transaction,
    reply_transaction,
    turn_query,
)

QUESTION = "Is volume 3 of Frieren in stock?"


@pytest.fixture
def faults(dynamodb_chat: Chat) -> InjectedFaults:
    return InjectedFaults(dynamodb_chat.container.adapters.dynamodb_client())


@pytest.fixture
def session_id(dynamodb_chat: Chat) -> str:
    assert dynamodb_chat.connect("conn-1", "cust-1") == 200
    return str(dynamodb_chat.session_of("conn-1")["session_id"])


def stored(table: Any, session_id: str) -> Counter[tuple[str, str]]:
    """(role, message id) of every stored turn, counted; and the META's turn count must agree."""
    items = partition_items(table, session_id)
    turns = Counter((i["role"]["S"], i["message_id"]["S"]) for i in items if i["SK"]["S"].startswith("TURN#"))
    [meta] = [i for i in items if i["SK"]["S"] == "META"]
    assert int(meta["turn_count"]["N"]) == sum(turns.values())
    return turns


ONE_EXCHANGE = Counter({("user", "m-1"): 1, ("assistant", "m-1"): 1})


def test_the_users_turn_throttled_is_a_clean_503_and_the_retry_answers_once(
    dynamodb_chat: Chat, faults: InjectedFaults, session_id: str, in_process_table: Any
) -> None:
    faults.fail("TransactWriteItems", "ProvisionedThroughputExceededException", when=record_transaction)
    assert dynamodb_chat.say("conn-1", QUESTION, "m-1") == 503
    assert dynamodb_chat.last("conn-1")["code"] == "unavailable"
    assert dynamodb_chat.llm.calls == 0 and stored(in_process_table, session_id) == Counter()
    assert dynamodb_chat.say("conn-1", QUESTION, "m-1") == 200
    assert dynamodb_chat.last("conn-1")["type"] == "message"
    assert stored(in_process_table, session_id) == ONE_EXCHANGE


@pytest.mark.parametrize(
    "reasons",
    [
        ["ThrottlingError", "None", "None"],
        ["TransactionConflict", "None", "None"],
        ["None", "None", "TransactionConflict"],
    ],
)
def test_a_cancelled_transaction_is_retried_with_backoff(
    dynamodb_chat: Chat, faults: InjectedFaults, session_id: str, in_process_table: Any, reasons: list[str]
) -> None:
    faults.fail("TransactWriteItems", "TransactionCanceledException", times=2, reasons=reasons)
    assert dynamodb_chat.say("conn-1", QUESTION, "m-1") == 200
    assert dynamodb_chat.last("conn-1")["type"] == "message"
    assert stored(in_process_table, session_id) == ONE_EXCHANGE
    assert len(faults.injected) == 2


def test_a_transaction_that_stays_contended_becomes_unavailable(
    dynamodb_chat: Chat, faults: InjectedFaults, session_id: str, in_process_table: Any
) -> None:
    faults.fail(
        "TransactWriteItems", "TransactionCanceledException", times=99, reasons=["TransactionConflict"] * 3
    )
    assert dynamodb_chat.say("conn-1", QUESTION, "m-1") == 503
    assert dynamodb_chat.last("conn-1")["code"] == "unavailable"
    faults.clear()
    assert dynamodb_chat.say("conn-1", QUESTION, "m-1") == 200
    assert stored(in_process_table, session_id) == ONE_EXCHANGE


def test_the_reply_throttled_goes_to_the_retry_queue_and_its_replay_stores_it_once(
    dynamodb_chat: Chat, faults: InjectedFaults, session_id: str, in_process_table: Any
) -> None:
    queue = InMemoryRetryQueue()
    dynamodb_chat.container.adapters.retry_queue.override(providers.Object(queue))
    faults.fail("TransactWriteItems", "ThrottlingException", times=1, when=reply_transaction)
    assert dynamodb_chat.say("conn-1", QUESTION, "m-1") == 200
    assert dynamodb_chat.last("conn-1")["type"] == "message"  # the customer has the reply already
    assert stored(in_process_table, session_id) == Counter({("user", "m-1"): 1})
    [(write, _)] = queue.take()
    replay = dynamodb_chat.container.use_cases.replay_write()
    assert replay(write) is Replayed.STORED
    assert replay(write) is Replayed.ALREADY_STORED  # SQS delivers at least once
    assert stored(in_process_table, session_id) == ONE_EXCHANGE
    assert dynamodb_chat.say("conn-1", QUESTION, "m-1") == 200  # the client's retry: the stored reply
    assert dynamodb_chat.llm.calls == 1


def test_the_reply_throttled_with_no_queue_fails_loudly_and_the_retry_answers_once(
    dynamodb_chat: Chat, faults: InjectedFaults, session_id: str, in_process_table: Any
) -> None:
    faults.fail("TransactWriteItems", "ThrottlingException", when=reply_transaction)
    assert dynamodb_chat.say("conn-1", QUESTION, "m-1") == 503
    assert dynamodb_chat.last("conn-1")["code"] == "unavailable"
    assert stored(in_process_table, session_id) == Counter({("user", "m-1"): 1})
    assert dynamodb_chat.say("conn-1", QUESTION, "m-1") == 200  # the lease was released: answered now
    assert stored(in_process_table, session_id) == ONE_EXCHANGE


def test_the_context_read_throttled_frees_the_stored_turn_for_the_retry(
    dynamodb_chat: Chat, faults: InjectedFaults, session_id: str, in_process_table: Any
) -> None:
    faults.fail("Query", "ThrottlingException", when=turn_query)
    assert dynamodb_chat.say("conn-1", QUESTION, "m-1") == 503
    assert dynamodb_chat.llm.calls == 0
    assert dynamodb_chat.say("conn-1", QUESTION, "m-1") == 200
    assert stored(in_process_table, session_id) == ONE_EXCHANGE


def test_a_lease_that_could_not_be_released_runs_out_and_the_message_is_answered_once(
    dynamodb_chat: Chat, faults: InjectedFaults, session_id: str, in_process_table: Any, clock: ManualClock
) -> None:
    dynamodb_chat.llm.fail_next()
    faults.fail("UpdateItem", "ThrottlingException", when=lease_release)
    assert dynamodb_chat.say("conn-1", QUESTION, "m-1") == 503  # the model failed; the release too
    assert dynamodb_chat.say("conn-1", QUESTION, "m-1") == 409  # still leased: being answered
    clock.advance(46)
    assert dynamodb_chat.say("conn-1", QUESTION, "m-1") == 200
    assert stored(in_process_table, session_id) == ONE_EXCHANGE


def test_every_write_throttled_in_turn_still_stores_each_accepted_turn_once(
    dynamodb_chat: Chat, faults: InjectedFaults, session_id: str, in_process_table: Any
) -> None:
    queue = InMemoryRetryQueue()
    dynamodb_chat.container.adapters.retry_queue.override(providers.Object(queue))
    writes = [record_transaction, reply_transaction, turn_query, None]
    for n, when in enumerate(writes * 3):
        if when is not None:
            faults.fail(
                "Query" if when is turn_query else "TransactWriteItems", "ThrottlingException", when=when
            )
        status = dynamodb_chat.say("conn-1", f"question {n}", f"m-{n}")
        if status == 503:  # the client retries what it was told was unavailable
            status = dynamodb_chat.say("conn-1", f"question {n}", f"m-{n}")
        assert status == 200 and dynamodb_chat.last("conn-1")["reply_to"] == f"m-{n}"
    for write, _ in queue.take():
        dynamodb_chat.container.use_cases.replay_write()(write)
    expected = Counter(
        {(role, f"m-{n}"): 1 for n in range(len(writes) * 3) for role in ("user", "assistant")}
    )
    assert stored(in_process_table, session_id) == expected


@pytest.mark.usefixtures("session_id")
def test_validation_errors_are_never_retried_nor_called_unavailable(
    dynamodb_chat: Chat, faults: InjectedFaults
) -> None:
    faults.fail("TransactWriteItems", "ValidationException", when=record_transaction)
    assert dynamodb_chat.say("conn-1", QUESTION, "m-1") == 500
    assert dynamodb_chat.last("conn-1")["code"] == "internal"
    assert faults.injected == [("TransactWriteItems", "ValidationException")]


def meta_update(body: dict[str, Any]) -> bool:
    return bool(body.get("Key", {}).get("SK", {}).get("S") == "META")


def test_a_lease_release_meeting_a_transaction_is_retried_so_the_retry_answers_at_once(
    dynamodb_chat: Chat, faults: InjectedFaults, session_id: str, in_process_table: Any
) -> None:
    """DynamoDB refuses a single-item write on an item an in-flight transaction holds. botocore does not
    retry it; were it not retried here, the release would fail and the retry meet 409, as above."""
    dynamodb_chat.llm.fail_next()
    faults.fail("UpdateItem", "TransactionConflictException", times=2, when=lease_release)
    assert dynamodb_chat.say("conn-1", QUESTION, "m-1") == 503  # the model failed; the lease is freed
    assert faults.injected == [("UpdateItem", "TransactionConflictException")] * 2
    assert dynamodb_chat.say("conn-1", QUESTION, "m-1") == 200
    assert stored(in_process_table, session_id) == ONE_EXCHANGE


def test_a_disconnect_racing_a_transaction_on_the_session_still_lands(
    dynamodb_chat: Chat, faults: InjectedFaults, session_id: str, in_process_table: Any
) -> None:
    faults.fail("UpdateItem", "TransactionConflictException", times=3, when=meta_update)
    assert dynamodb_chat.disconnect("conn-1") == 200
    [meta] = [i for i in partition_items(in_process_table, session_id) if i["SK"]["S"] == "META"]
    assert meta["status"]["S"] == "disconnected" and len(faults.injected) == 3


def test_a_single_item_write_held_for_good_becomes_unavailable_not_a_crash(
    dynamodb_chat: Chat, faults: InjectedFaults, session_id: str, in_process_table: Any, clock: ManualClock
) -> None:
    dynamodb_chat.llm.fail_next()
    faults.fail("UpdateItem", "TransactionConflictException", times=99, when=lease_release)
    assert dynamodb_chat.say("conn-1", QUESTION, "m-1") == 503
    assert len(faults.injected) == 5  # Backoff's attempts, then the lease is left to run out
    faults.clear()
    clock.advance(46)
    assert dynamodb_chat.say("conn-1", QUESTION, "m-1") == 200
    assert stored(in_process_table, session_id) == ONE_EXCHANGE
