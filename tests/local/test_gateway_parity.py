"""The local gateway held against API Gateway's documented WebSocket behaviour, one check per
behaviour, each citing what it mirrors. Sources (AWS documentation unless said otherwise):

- [QUOTAS] "Quotas for configuring and running a WebSocket API in API Gateway": frame size 32 KB,
  message payload size 128 KB, integration timeout 29 s, connection duration 2 hours, idle connection
  timeout 10 minutes; "messages larger than 32 KB must be split into multiple frames, each 32 KB or
  smaller. This applies to @connections commands. If a larger message (or larger frame size) is
  received, the connection is closed with code 1009."
- [BINARY] "Binary media types for WebSocket APIs in API Gateway": "If a client app sends a binary
  frame, API Gateway rejects it and disconnects the client with code 1003."
- [LAMBDA-ERRORS] Lambda developer guide, "Handling Lambda errors with an API Gateway API": a function
  that raises is answered 502 with {"message": "Internal server error"}. On a WebSocket route the same
  message reaches the client as a frame with its connectionId and requestId (serverless-offline's
  end-to-end suite, written against a deployed API, expects exactly these three keys).
- [TIMEOUT] Past the 29 s integration timeout the client of a WebSocket route gets
  {"message": "Endpoint request timed out", "connectionId", "requestId"} (as reported by users of
  deployed APIs, e.g. Kludex/mangum#128, aws/chalice#1406).
- [SUBPROTOCOL] "Set up a $connect route that requires a WebSocket subprotocol": the $connect
  integration returns the Sec-WebSocket-Protocol header, and that is what the client gets.
- [MGMT-ENDPOINT] API Gateway Management API reference: the endpoint is
  https://{api-id}.execute-api.{region}.amazonaws.com/{stage}; PostToConnection's Data is at most
  128 KB (PayloadTooLargeException); ForbiddenException when the caller is not authorized (requests
  are SigV4-signed, execute-api:ManageConnections).
- [GONE] AWS Knowledge Center, "How do I troubleshoot 410 GoneException errors with API Gateway
  WebSocket APIs": a message posted before the connection is established (from $connect) gets 410.
- [UPGRADE] serverless-offline's end-to-end suite (run against AWS as well): a plain HTTP request to
  the WebSocket URL is answered 426.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import boto3
import pytest
from botocore.exceptions import ClientError

from entrypoints import connect, message
from entrypoints.local.environment import ServeOptions
from entrypoints.local.limits import GatewayLimits
from tests.local.client import Client, eventually
from tests.local.raw_socket import RawSocket
from tests.local.server_thread import ServerThread

KB = 1024
OP_TEXT, OP_BINARY, OP_CONTINUATION = 0x1, 0x2, 0x0


def with_limits(start_server: Callable[..., ServerThread], **limits: float) -> ServerThread:
    return start_server(ServeOptions(host="127.0.0.1", port=0, limits=GatewayLimits(**limits)))  # type: ignore[arg-type]


@pytest.fixture
def frames_seen(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The $default events the real message handler received."""
    seen: list[dict[str, Any]] = []
    real = message.handler

    def recording(event: dict[str, Any], context: Any) -> Any:
        seen.append(event)
        return real(event, context)

    monkeypatch.setattr(message, "handler", recording)
    return seen


def session_frame(size: int) -> bytes:
    """A valid ``session`` frame padded with spaces to exactly ``size`` bytes."""
    body = b'{"action": "session"}'
    return body[:-1] + b" " * (size - len(body)) + b"}"


# --- [QUOTAS] frame and message sizes --------------------------------------------------------


def test_a_frame_of_exactly_32_kb_is_accepted(
    server: ServerThread, frames_seen: list[dict[str, Any]]
) -> None:
    async def scenario() -> None:
        raw = await RawSocket.open(server.port, "/ws?customer_id=cust-1")
        raw.send_frame(session_frame(32 * KB))
        [reply] = await raw.message()
        assert json.loads(reply.payload)["type"] == "session"
        raw.close()

    asyncio.run(scenario())
    assert len(frames_seen[0]["body"]) == 32 * KB


def test_a_frame_over_32_kb_closes_with_1009(server: ServerThread, frames_seen: list[dict[str, Any]]) -> None:
    async def scenario() -> int:
        raw = await RawSocket.open(server.port, "/ws?customer_id=cust-1")
        raw.send_frame(session_frame(32 * KB + 1))
        code = await raw.close_code()
        raw.close()
        return code

    assert asyncio.run(scenario()) == 1009
    assert frames_seen == []


def test_a_message_of_exactly_128_kb_in_32_kb_frames_is_accepted(
    server: ServerThread, frames_seen: list[dict[str, Any]]
) -> None:
    async def scenario() -> None:
        raw = await RawSocket.open(server.port, "/ws?customer_id=cust-1")
        raw.send_message(session_frame(128 * KB), 32 * KB)
        [reply] = await raw.message()
        assert json.loads(reply.payload)["type"] == "session"
        raw.close()

    asyncio.run(scenario())
    assert len(frames_seen[0]["body"]) == 128 * KB


def test_a_message_over_128_kb_closes_with_1009(
    server: ServerThread, frames_seen: list[dict[str, Any]]
) -> None:
    async def scenario() -> int:
        raw = await RawSocket.open(server.port, "/ws?customer_id=cust-1")
        raw.send_message(session_frame(128 * KB + 1), 32 * KB)
        code = await raw.close_code()
        raw.close()
        return code

    assert asyncio.run(scenario()) == 1009
    assert frames_seen == []


def test_a_post_over_32_kb_reaches_the_client_whole_in_frames_of_32_kb(server: ServerThread) -> None:
    data = json.dumps({"type": "big", "text": "x" * (128 * KB - 30)}).encode()
    assert len(data) <= 128 * KB

    async def scenario() -> list[Any]:
        raw = await RawSocket.open(server.port, "/ws?customer_id=cust-1")
        raw.send_frame(b'{"action": "session"}')
        await raw.message()
        [connection_id] = server.connection_ids()
        await asyncio.to_thread(
            server.management_api().post_to_connection, ConnectionId=connection_id, Data=data
        )
        frames = await raw.message()
        raw.close()
        return frames

    frames = asyncio.run(scenario())
    assert b"".join(f.payload for f in frames) == data  # nothing lost from a large body
    assert len(frames) == 4 and all(len(f.payload) <= 32 * KB for f in frames)
    assert [f.opcode for f in frames] == [OP_TEXT, OP_CONTINUATION, OP_CONTINUATION, OP_CONTINUATION]


def test_a_post_over_128_kb_is_refused_and_sends_nothing(server: ServerThread) -> None:
    async def scenario() -> None:
        client = await Client.open(server.ws_url, customer_id="cust-1")
        await client.ask({"action": "session"}, "session")
        [connection_id] = server.connection_ids()
        api = server.management_api()
        with pytest.raises(api.exceptions.PayloadTooLargeException):
            await asyncio.to_thread(
                api.post_to_connection, ConnectionId=connection_id, Data=b"x" * (128 * KB + 1)
            )
        await asyncio.to_thread(api.post_to_connection, ConnectionId=connection_id, Data=b'{"type": "next"}')
        assert await client.receive() == {"type": "next"}
        await client.close()

    asyncio.run(scenario())


# --- [BINARY] ----------------------------------------------------------------------------


def test_a_binary_frame_closes_with_1003_and_invokes_nothing(
    server: ServerThread, frames_seen: list[dict[str, Any]]
) -> None:
    async def scenario() -> aiohttp.WSMessage:
        client = await Client.open(server.ws_url, customer_id="cust-1")
        await client.ws.send_bytes(b'{"action": "session"}')
        closing = await asyncio.wait_for(client.ws.receive(), 15)
        await client.close()
        return closing

    closing = asyncio.run(scenario())
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 1003
    assert frames_seen == []


# --- [LAMBDA-ERRORS] -----------------------------------------------------------------------


def test_a_default_handler_that_raises_sends_internal_server_error(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict[str, Any]] = []

    def broken(event: dict[str, Any], _context: Any) -> Any:
        seen.append(event)
        raise RuntimeError("a bug")

    async def scenario() -> dict[str, Any]:
        client = await Client.open(server.ws_url, customer_id="cust-1")
        monkeypatch.setattr(message, "handler", broken)
        await client.send({"action": "session"})
        frame = await client.receive()
        await client.close()
        return frame

    frame = asyncio.run(scenario())
    context = seen[0]["requestContext"]
    assert frame == {
        "message": "Internal server error",
        "connectionId": context["connectionId"],
        "requestId": context["requestId"],
    }


def test_a_connect_handler_that_raises_refuses_the_handshake_with_502(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_event: dict[str, Any], _context: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(connect, "handler", broken)

    async def scenario() -> int:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await Client.open(server.ws_url, customer_id="cust-1")
        return refused.value.status

    assert asyncio.run(scenario()) == 502


# --- [TIMEOUT] and [QUOTAS] integration timeout -----------------------------------------------


def test_a_default_handler_past_the_integration_timeout_gets_the_timeout_frame_and_runs_on(
    start_server: Callable[..., ServerThread], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = with_limits(start_server, integration_timeout=0.3)
    real = message.handler
    seen: list[dict[str, Any]] = []

    def slow(event: dict[str, Any], context: Any) -> Any:
        seen.append(event)
        time.sleep(1.0)
        return real(event, context)

    async def scenario() -> list[dict[str, Any]]:
        client = await Client.open(server.ws_url, customer_id="cust-1")
        monkeypatch.setattr(message, "handler", slow)
        await client.send({"action": "session"})
        frames = [await client.receive(), await client.receive()]
        await client.close()
        return frames

    timed_out, late = asyncio.run(scenario())
    context = seen[0]["requestContext"]
    assert timed_out == {
        "message": "Endpoint request timed out",
        "connectionId": context["connectionId"],
        "requestId": context["requestId"],
    }
    assert late["type"] == "session"  # the function went on, as Lambda's does


def test_a_connect_handler_past_the_integration_timeout_refuses_the_handshake_with_504(
    start_server: Callable[..., ServerThread], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = with_limits(start_server, integration_timeout=0.3)
    real = connect.handler

    def slow(event: dict[str, Any], context: Any) -> Any:
        time.sleep(1.0)
        return real(event, context)

    monkeypatch.setattr(connect, "handler", slow)

    async def scenario() -> int:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await Client.open(server.ws_url, customer_id="cust-1")
        return refused.value.status

    assert asyncio.run(scenario()) == 504


# --- [SUBPROTOCOL] -------------------------------------------------------------------------


def test_the_subprotocol_connect_selects_is_the_one_the_client_gets(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = connect.handler
    offered: list[str] = []

    def selecting(event: dict[str, Any], context: Any) -> Any:
        offered.append(event["headers"].get("Sec-WebSocket-Protocol", ""))
        return {**real(event, context), "headers": {"Sec-WebSocket-Protocol": "chat.v2"}}

    monkeypatch.setattr(connect, "handler", selecting)

    async def scenario() -> str | None:
        url = f"{server.ws_url}?customer_id=cust-1"
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(url, protocols=("chat.v1", "chat.v2")) as ws,
        ):
            return ws.protocol

    assert asyncio.run(scenario()) == "chat.v2"  # $connect's choice, not the gateway's
    assert offered == ["chat.v1,chat.v2"]


def test_the_connect_handler_selects_manga_assist_when_a_browser_offers_it(server: ServerThread) -> None:
    async def scenario() -> str | None:
        url = f"{server.ws_url}?customer_id=cust-1"
        async with aiohttp.ClientSession() as http, http.ws_connect(url, protocols=("manga-assist",)) as ws:
            return ws.protocol

    assert asyncio.run(scenario()) == "manga-assist"


def test_no_subprotocol_is_chosen_when_connect_selects_none(server: ServerThread) -> None:
    async def scenario() -> str | None:
        url = f"{server.ws_url}?customer_id=cust-1"
        async with aiohttp.ClientSession() as http, http.ws_connect(url, protocols=("chat1",)) as ws:
            return ws.protocol

    assert asyncio.run(scenario()) is None


# --- [MGMT-ENDPOINT] and [GONE] -----------------------------------------------------------------


def test_the_management_api_answers_under_the_stage_path(server: ServerThread) -> None:
    staged = boto3.client(
        "apigatewaymanagementapi", endpoint_url=f"{server.http_url}/local", region_name="us-east-1"
    )

    async def scenario() -> None:
        client = await Client.open(server.ws_url, customer_id="cust-1")
        await client.ask({"action": "session"}, "session")
        [connection_id] = server.connection_ids()
        info = await asyncio.to_thread(staged.get_connection, ConnectionId=connection_id)
        assert info["Identity"]["SourceIp"] == "127.0.0.1"
        await asyncio.to_thread(
            staged.post_to_connection, ConnectionId=connection_id, Data=b'{"type": "staged"}'
        )
        assert await client.receive() == {"type": "staged"}
        await client.close()

    asyncio.run(scenario())


def test_an_unsigned_management_api_request_is_forbidden(server: ServerThread) -> None:
    async def scenario() -> None:
        client = await Client.open(server.ws_url, customer_id="cust-1")
        await client.ask({"action": "session"}, "session")
        [connection_id] = server.connection_ids()
        async with aiohttp.ClientSession() as http:
            for path in (f"/@connections/{connection_id}", f"/local/@connections/{connection_id}"):
                async with http.post(server.http_url + path, data=b'{"type": "unsigned"}') as response:
                    assert response.status == 403
                    assert response.headers["x-amzn-ErrorType"] == "ForbiddenException"
        await client.ask({"action": "session"}, "session")  # nothing else arrived before it
        await client.close()

    asyncio.run(scenario())


def test_a_post_from_connect_gets_gone_the_connection_is_not_established_yet(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = connect.handler
    errors: list[str] = []

    def posting(event: dict[str, Any], context: Any) -> Any:
        try:
            server.management_api().post_to_connection(
                ConnectionId=event["requestContext"]["connectionId"], Data=b"{}"
            )
        except ClientError as error:
            errors.append(error.response["Error"]["Code"])
        return real(event, context)

    monkeypatch.setattr(connect, "handler", posting)

    async def scenario() -> None:
        client = await Client.open(server.ws_url, customer_id="cust-1")
        [session] = await client.ask({"action": "session"}, "session")
        assert session["type"] == "session"
        await client.close()

    asyncio.run(scenario())
    assert errors == ["GoneException"]


# --- [QUOTAS] idle timeout and connection duration ------------------------------------------------


def test_an_idle_connection_is_closed_going_away_and_disconnects(
    start_server: Callable[..., ServerThread], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = with_limits(start_server, idle_timeout=3.0)
    from entrypoints import disconnect

    gone: list[dict[str, Any]] = []
    real: Callable[[dict[str, Any], Any], dict[str, Any]] = disconnect.handler

    def recorded(event: dict[str, Any], context: Any) -> dict[str, Any]:
        gone.append(event)
        return real(event, context)

    monkeypatch.setattr(disconnect, "handler", recorded)

    async def scenario() -> aiohttp.WSMessage:
        client = await Client.open(server.ws_url, customer_id="cust-1")
        for _ in range(16):  # 4 s of traffic, past the idle limit: activity keeps it open
            await client.ask({"action": "session"}, "session")
            await asyncio.sleep(0.25)
        closing = await asyncio.wait_for(client.ws.receive(), 15)  # then silence
        await client.close()
        await eventually(lambda: bool(gone))
        return closing

    closing = asyncio.run(scenario())
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 1001
    assert gone[0]["requestContext"]["disconnectStatusCode"] == 1001


def test_a_connection_is_closed_at_its_maximum_duration_however_active(
    start_server: Callable[..., ServerThread],
) -> None:
    server = with_limits(start_server, max_lifetime=1.0)

    async def scenario() -> int | None:
        client = await Client.open(server.ws_url, customer_id="cust-1")
        while True:  # a frame every 0.1 s: never idle
            with contextlib.suppress(ConnectionResetError):  # closed meanwhile: the close frame is next
                await client.send({"action": "session"})
            message = await asyncio.wait_for(client.ws.receive(), 15)
            if message.type != aiohttp.WSMsgType.TEXT:
                await client.close()
                return int(message.data) if message.type == aiohttp.WSMsgType.CLOSE else None
            await asyncio.sleep(0.1)

    assert asyncio.run(scenario()) == 1001


# --- [UPGRADE] and the stage URL ----------------------------------------------------------------


def test_a_plain_http_request_to_the_websocket_url_is_answered_426(server: ServerThread) -> None:
    async def status(path: str) -> int:
        async with aiohttp.ClientSession() as http, http.get(server.http_url + path) as response:
            return response.status

    assert asyncio.run(status("/ws")) == 426
    assert asyncio.run(status("/local")) == 426


def test_the_websocket_answers_at_the_stage_path_too(server: ServerThread) -> None:
    async def scenario() -> dict[str, Any]:
        client = await Client.open(f"{server.http_url.replace('http', 'ws')}/local", customer_id="cust-1")
        [session] = await client.ask({"action": "session"}, "session")
        await client.close()
        return session

    assert asyncio.run(scenario())["status"] == "active"
