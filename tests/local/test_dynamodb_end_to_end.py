"""``serve --store dynamodb`` against a moto server: a real WebSocket client talks, then the table is
read with plain boto3 to see what the handlers stored."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from entrypoints import cli
from entrypoints.local.environment import ServeOptions
from testing.aws import partition_items
from tests.local.client import Client
from tests.local.server_thread import ServerThread

TABLE = "manga-assist-local-e2e"

pytestmark = pytest.mark.moto_server


def test_a_conversation_lands_in_the_table(
    moto_endpoint: str, start_server: Callable[..., ServerThread], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SESSION_TABLE", TABLE)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_endpoint)
    assert cli.main(["create-table"]) == 0

    server = start_server(
        ServeOptions(host="127.0.0.1", port=0, store="dynamodb", endpoint_url=moto_endpoint)
    )

    async def scenario() -> tuple[str, dict[str, Any]]:
        client = await Client.open(server.ws_url, customer_id="cust-e2e")
        [session] = await client.ask({"action": "session"}, "session")
        *chunks, reply = await client.say("Is volume 3 of Frieren in stock?", "m-1")
        assert chunks and reply["type"] == "message" and reply["reply_to"] == "m-1"
        [history] = await client.ask({"action": "history"}, "history")
        assert [t["role"] for t in history["turns"]] == ["user", "assistant"]
        await client.close()
        return session["session_id"], reply

    session_id, reply = asyncio.run(scenario())
    server.stop()  # every $disconnect has run

    table = boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name="us-east-1")
    by_key = {item["SK"]["S"]: item for item in partition_items(table, session_id, TABLE)}
    meta = by_key["META"]
    assert meta["customer_id"] == {"S": "cust-e2e"}
    assert meta["status"] == {"S": "disconnected"}
    assert meta["turn_count"] == {"N": "2"}
    assert "ttl" in meta and "N" in meta["ttl"]
    turns = [by_key[k] for k in sorted(by_key) if k.startswith("TURN#")]
    assert [t["role"]["S"] for t in turns] == ["user", "assistant"]
    texts = [zlib.decompress(t["content_compressed"]["B"]).decode("utf-8") for t in turns]
    assert texts == ["Is volume 3 of Frieren in stock?", reply["content"]]
