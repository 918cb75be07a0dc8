"""The retry queue: a versioned, self-describing message format, on SQS and in-process, read back
by the turn writer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from adapters.memory_retry_queue import InMemoryRetryQueue
from adapters.retry_message import UnreadableRetryMessage, decode_pending_write, encode_pending_write
from adapters.sqs_retry_queue import SqsRetryQueue
from application.errors import Unavailable
from application.ports import PendingWrite
from domain.model import Role, Turn
from entrypoints import turn_writer
from testing.harness import Chat, load_event

NOW = datetime(2026, 11, 27, 9, 0, 0, 123456, tzinfo=UTC)


def pending(
    content: str = "Volume 3 ships tomorrow.", session_id: str = "s-1", message_id: str = "m-1"
) -> PendingWrite:
    reply = Turn("0001795770000123456000-0a1b2c3d~a", Role.ASSISTANT, content, 7, NOW, message_id, "r-1")
    return PendingWrite("complete_exchange", session_id, message_id, reply, NOW + timedelta(days=1))


def test_a_pending_write_describes_itself() -> None:
    body = json.loads(encode_pending_write(pending()))
    assert body["format"] == "manga-assist.pending-write" and body["version"] == 1
    assert body["kind"] == "complete_exchange" and body["reply"]["role"] == "assistant"
    assert body["expires_at"] == "2026-11-28T09:00:00.123456+00:00"


@given(st.text(min_size=1, max_size=200))
def test_a_pending_write_round_trips_exactly(content: str) -> None:
    write = pending(content)
    assert decode_pending_write(encode_pending_write(write)) == write


@pytest.mark.parametrize(
    "change",
    [
        lambda _body: "not json",
        lambda body: json.dumps({**body, "format": "someone-else"}),
        lambda body: json.dumps({**body, "version": 2}),
        lambda body: json.dumps({**body, "kind": "put_turn"}),
        lambda body: json.dumps({k: v for k, v in body.items() if k != "session_id"}),
        lambda body: json.dumps({**body, "expires_at": "2026-11-28T09:00:00"}),
        lambda body: json.dumps({**body, "reply": {**body["reply"], "token_count": True}}),
        lambda body: json.dumps({**body, "reply": {**body["reply"], "role": "wizard"}}),
    ],
)
def test_a_message_this_code_cannot_read_is_refused_clearly(change: Any) -> None:
    with pytest.raises(UnreadableRetryMessage):
        decode_pending_write(change(json.loads(encode_pending_write(pending()))))


def test_the_in_process_queue_hands_writes_over_and_takes_them_back() -> None:
    queue = InMemoryRetryQueue()
    queue.enqueue(pending(message_id="m-1"))
    queue.enqueue(pending(message_id="m-2"))
    assert [json.loads(b)["message_id"] for b in queue.bodies] == ["m-1", "m-2"]
    taken = queue.take()
    assert [(w.message_id, attempt) for w, attempt in taken] == [("m-1", 1), ("m-2", 1)] and len(queue) == 0
    queue.put_back(taken[0][0], 2)
    assert [(w.message_id, attempt) for w, attempt in queue.take()] == [("m-1", 2)]


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def test_sqs_holds_the_message_for_the_turn_writer(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="manga-assist-turn-retry")["QueueUrl"]
    SqsRetryQueue(url, client_factory=lambda: sqs).enqueue(pending())
    [message] = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    assert decode_pending_write(message["Body"]) == pending()
    assert message["MessageAttributes"]["format"]["StringValue"] == "manga-assist.pending-write/1"


def test_a_queue_that_refuses_is_unavailable(sqs: Any) -> None:
    queue = SqsRetryQueue("https://sqs.us-east-1.amazonaws.com/123456789012/missing", client=sqs)
    with pytest.raises(Unavailable):
        queue.enqueue(pending())


def test_the_turn_writer_replays_what_the_queue_holds_and_refuses_what_it_cannot_read(chat: Chat) -> None:
    chat.connect("conn-1", "cust-1")
    session_id = chat.session_of("conn-1")["session_id"]
    chat.say("conn-1", "hello", "m-1")
    [user, reply] = chat.repository.history(session_id, 10)
    event = load_event("sqs_retry_batch.json")
    good = event["Records"][0]
    unreadable = {**good, "messageId": "unreadable-1", "body": json.dumps({"format": "x", "version": 99})}
    good["body"] = encode_pending_write(
        PendingWrite("complete_exchange", session_id, "m-1", reply, NOW + timedelta(days=1))
    )
    event["Records"].append(unreadable)
    # The reply is stored already: its replay is a success; the unreadable one goes back to SQS.
    assert turn_writer.handler(event, None) == {"batchItemFailures": [{"itemIdentifier": "unreadable-1"}]}
    assert [t.turn_id for t in chat.repository.history(session_id, 10)] == [user.turn_id, reply.turn_id]


def test_a_pending_write_carries_its_charge_and_reads_one_without() -> None:
    from attrs import evolve

    from domain.limits import Charge

    charged = evolve(pending(), charge=Charge("cust-1", "2026-11-27", 640))
    body = json.loads(encode_pending_write(charged))
    assert body["charge"] == {"customer": "cust-1", "day": "2026-11-27", "tokens": 640}
    assert decode_pending_write(encode_pending_write(charged)) == charged
    assert "charge" not in json.loads(encode_pending_write(pending()))  # as written before limits
    for bad in ({"customer": "c", "day": "yesterday", "tokens": 1}, {"customer": "c", "day": "2026-11-27"}):
        with pytest.raises(UnreadableRetryMessage):
            decode_pending_write(json.dumps({**body, "charge": bad}))
