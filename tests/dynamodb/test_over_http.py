"""The real handlers on ``SESSION_STORE=dynamodb`` against a moto server over HTTP, found through
``AWS_ENDPOINT_URL`` as in a local run; then the table is read with plain boto3."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from adapters.dynamodb.layout import CONNECTION_INDEX, QUEUE_INDEX
from entrypoints import cli
from testing.aws import TABLE, partition_items
from testing.harness import Chat
from tests.dynamodb.conftest import DYNAMODB_ENV, close

pytestmark = pytest.mark.moto_server


@pytest.fixture
def chat(table: Any) -> Iterator[Chat]:  # noqa: ARG001 - the table first
    system = Chat(env=dict(DYNAMODB_ENV))
    yield system
    close(system)


def partition(table: Any, session_id: str) -> dict[str, dict[str, Any]]:
    return {item["SK"]["S"]: item for item in partition_items(table, session_id)}


def test_a_conversation_is_stored_as_the_protocol_says(chat: Chat, table: Any) -> None:
    assert chat.connect("conn-1", "cust-9") == 200
    session_id = chat.session_of("conn-1")["session_id"]
    assert chat.say("conn-1", "Is volume 3 of Frieren in stock?", "m-1") == 200
    reply = chat.last("conn-1")
    assert reply["type"] == "message" and reply["reply_to"] == "m-1"
    assert chat.say("conn-1", "Is volume 3 of Frieren in stock?", "m-1") == 200  # a repeat
    assert chat.last("conn-1")["content"] == reply["content"] and chat.llm.calls == 1

    items = partition(table, session_id)
    meta = items["META"]
    assert meta["session_id"] == {"S": session_id} and meta["customer_id"] == {"S": "cust-9"}
    assert meta["connection_id"] == {"S": "conn-1"} and meta["status"] == {"S": "active"}
    assert meta["turn_count"] == {"N": "2"}
    assert Decimal(meta["ttl"]["N"]) == Decimal(meta["ttl"]["N"]).to_integral_value()
    turns = [items[k] for k in sorted(items) if k.startswith("TURN#")]
    assert [t["role"]["S"] for t in turns] == ["user", "assistant"]
    texts = [zlib.decompress(t["content_compressed"]["B"]).decode() for t in turns]
    assert texts == ["Is volume 3 of Frieren in stock?", reply["content"]]
    assert turns[1]["SK"]["S"] == turns[0]["SK"]["S"] + "~a"
    assert all(int(t["ttl"]["N"]) > int(meta["ttl"]["N"]) for t in turns)  # the children's backstop
    message = items["MSG#m-1"]
    assert message["user_turn_id"]["S"] == turns[0]["SK"]["S"].removeprefix("TURN#")
    assert message["reply_turn_id"]["S"] == turns[1]["SK"]["S"].removeprefix("TURN#")
    assert "lease_until" not in message


def test_disconnect_finds_the_session_through_the_index_and_takes_it_out(chat: Chat, table: Any) -> None:
    chat.connect("conn-1", "cust-9")
    session_id = chat.session_of("conn-1")["session_id"]
    fresh = Chat(env=dict(DYNAMODB_ENV))  # another container: its cache knows nothing, the GSI does
    try:
        assert fresh.disconnect("conn-1") == 200
    finally:
        close(fresh)
    meta = partition(table, session_id)["META"]
    assert meta["status"] == {"S": "disconnected"} and "connection_id" not in meta
    found = table.query(
        TableName=TABLE,
        IndexName=CONNECTION_INDEX,
        KeyConditionExpression="connection_id = :c",
        ExpressionAttributeValues={":c": {"S": "conn-1"}},
    )["Items"]
    assert found == []


def test_a_session_resumed_elsewhere_refuses_its_old_connection(chat: Chat) -> None:
    chat.connect("conn-1", "cust-9")
    session_id = chat.session_of("conn-1")["session_id"]
    chat.say("conn-1", "hello", "m-1")
    assert chat.connect("conn-2", "cust-9", session_id=session_id) == 200
    assert chat.session_of("conn-2") == {
        "type": "session",
        "session_id": session_id,
        "resumed": True,
        "status": "active",
    }
    assert chat.say("conn-1", "still there?", "m-2") == 403
    assert chat.say("conn-2", "still there?", "m-2") == 200
    chat.send("conn-2", {"action": "history"})
    history = chat.frames("conn-2", "history")[-1]["turns"]
    assert [t["role"] for t in history] == ["user", "assistant", "user", "assistant"]


def test_create_table_is_idempotent(moto_endpoint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["create-table", "--endpoint-url", moto_endpoint, "--table", "fresh-table"]) == 0
    assert "created table fresh-table" in capsys.readouterr().out
    assert cli.main(["create-table", "--endpoint-url", moto_endpoint, "--table", "fresh-table"]) == 0
    assert "already exists" in capsys.readouterr().out


def test_the_table_has_its_index_streams_and_ttl(table: Any) -> None:
    described = table.describe_table(TableName=TABLE)["Table"]
    assert {k["AttributeName"] for k in described["KeySchema"]} == {"PK", "SK"}
    indexes = {i["IndexName"]: i for i in described["GlobalSecondaryIndexes"]}
    assert set(indexes) == {CONNECTION_INDEX, QUEUE_INDEX}
    assert indexes[CONNECTION_INDEX]["Projection"]["ProjectionType"] == "ALL"
    queue = indexes[QUEUE_INDEX]
    assert [k["AttributeName"] for k in queue["KeySchema"]] == ["handoff_queue", "waiting_since"]
    assert queue["Projection"]["ProjectionType"] == "INCLUDE"  # only what a queue entry shows
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert described["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    ttl = table.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}
