"""The Management API of ``serve`` answers the real boto3 ``apigatewaymanagementapi`` client, and the
production notifier (``ApiGatewayNotifier``) reads its answers right."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

import aiohttp
import pytest

from adapters.apigateway import ApiGatewayNotifier
from application.errors import ConnectionGone
from tests.local.client import Client
from tests.local.server_thread import ServerThread


def test_post_get_delete_and_gone(server: ServerThread) -> None:
    api = server.management_api()

    async def scenario() -> None:
        client = await Client.open(server.ws_url, customer_id="cust-1")
        await client.ask({"action": "session"}, "session")
        [connection_id] = server.connection_ids()

        await asyncio.to_thread(api.post_to_connection, ConnectionId=connection_id, Data=b'{"type":"ping"}')
        assert await client.receive() == {"type": "ping"}

        info = await asyncio.to_thread(api.get_connection, ConnectionId=connection_id)
        assert isinstance(info["ConnectedAt"], datetime) and isinstance(info["LastActiveAt"], datetime)
        assert info["ConnectedAt"] <= info["LastActiveAt"]
        assert info["Identity"]["SourceIp"] == "127.0.0.1"
        assert "aiohttp" in info["Identity"]["UserAgent"]

        with pytest.raises(api.exceptions.PayloadTooLargeException):
            await asyncio.to_thread(
                api.post_to_connection, ConnectionId=connection_id, Data=b"x" * (128 * 1024 + 1)
            )

        await asyncio.to_thread(api.delete_connection, ConnectionId=connection_id)
        closing = await asyncio.wait_for(client.ws.receive(), 15)
        assert closing.type == aiohttp.WSMsgType.CLOSE

        for call in (api.post_to_connection, api.get_connection, api.delete_connection):
            kwargs: dict[str, str | bytes] = {"ConnectionId": connection_id}
            if call == api.post_to_connection:
                kwargs["Data"] = b"{}"
            with pytest.raises(api.exceptions.GoneException):
                await asyncio.to_thread(call, **kwargs)
        await client.close()

    asyncio.run(scenario())


def test_a_closed_connection_is_gone_for_the_production_notifier(server: ServerThread) -> None:
    notifier = ApiGatewayNotifier(client=server.management_api())

    async def scenario() -> str:
        client = await Client.open(server.ws_url, customer_id="cust-1")
        await client.ask({"action": "session"}, "session")
        [connection_id] = server.connection_ids()
        await asyncio.to_thread(notifier.push, connection_id, {"type": "hello", "text": "こんにちは"})
        assert await client.receive() == {"type": "hello", "text": "こんにちは"}
        await client.close()
        return connection_id

    connection_id = asyncio.run(scenario())
    with pytest.raises(ConnectionGone):
        notifier.push(connection_id, {"type": "late"})
    with pytest.raises(ConnectionGone):
        notifier.push("NeverConnected0=", {"type": "late"})


def test_gone_is_answered_as_api_gateway_does(server: ServerThread) -> None:
    async def post() -> tuple[int, str | None, dict[str, Any]]:
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{server.http_url}/@connections/Unknown00000000=",
                data=b"{}",
                headers={"Authorization": "AWS4-HMAC-SHA256 Credential=local/20261201/us-east-1/execute-api"},
            ) as response,
        ):
            return (
                response.status,
                response.headers.get("x-amzn-ErrorType"),
                json.loads(await response.text()),
            )

    status, error_type, body = asyncio.run(post())
    assert (status, error_type) == (410, "GoneException")
    assert "message" in body
