"""``serve`` end to end over a real WebSocket: API Gateway's behaviour around the real handlers."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from entrypoints import connect, disconnect, message
from tests.local.client import Client, eventually
from tests.local.server_thread import ServerThread

EVENTS = Path(__file__).parents[2] / "testing" / "events"
API_GATEWAY_ID = re.compile(r"^[A-Za-z0-9]{15}=$")


def reference(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[dict[str, Any]]]:
    """The events each real handler received (the handlers still run)."""
    events: dict[str, list[dict[str, Any]]] = {"$connect": [], "$default": [], "$disconnect": []}
    for route, module in (("$connect", connect), ("$default", message), ("$disconnect", disconnect)):
        real = module.handler

        def recording(event: dict[str, Any], context: Any, real: Any = real, route: str = route) -> Any:
            events[route].append(json.loads(json.dumps(event)))
            return real(event, context)

        monkeypatch.setattr(module, "handler", recording)
    return events


def status_of(server: ServerThread, session_id: str) -> str:
    return str(server.container.adapters.repository().get(session_id).status)


def test_a_conversation_streams_and_is_remembered(server: ServerThread) -> None:
    async def scenario() -> None:
        client = await Client.open(server.ws_url, customer_id="cust-42")
        try:
            [session] = await client.ask({"action": "session"}, "session")
            assert session["resumed"] is False and session["status"] == "active"

            frames = await client.say("Is volume 3 of Frieren in stock?", "m-1")
            *chunks, reply = frames
            assert reply["type"] == "message" and reply["reply_to"] == "m-1"
            assert chunks and all(c["type"] == "chunk" for c in chunks)
            assert [c["index"] for c in chunks] == list(range(len(chunks)))  # one call's frames in order
            assert {c["response_id"] for c in chunks} == {reply["response_id"]}
            assert "".join(c["delta"] for c in chunks) == reply["content"]
            assert "in stock" in reply["content"]

            [history] = await client.ask({"action": "history"}, "history")
            assert [(t["role"], t["content"]) for t in history["turns"]] == [
                ("user", "Is volume 3 of Frieren in stock?"),
                ("assistant", reply["content"]),
            ]
        finally:
            await client.close()

    asyncio.run(scenario())


def test_events_have_the_shape_api_gateway_gives(
    server: ServerThread, recorded: dict[str, list[dict[str, Any]]]
) -> None:
    async def scenario() -> None:
        client = await Client.open(server.ws_url, customer_id="cust-42")
        await client.ask({"action": "session"}, "session")
        await client.ws.send_str("not JSON")
        [error] = await client.until("error")
        assert error["code"] == "bad_request"
        await client.close()
        await eventually(lambda: bool(recorded["$disconnect"]))

    asyncio.run(scenario())
    [connected] = recorded["$connect"]
    frames = recorded["$default"]
    [gone] = recorded["$disconnect"]
    for event, name in (
        (connected, "ws_connect.json"),
        (frames[0], "ws_message.json"),
        (gone, "ws_disconnect.json"),
    ):
        expected = reference(name)
        assert set(event) == set(expected), name
        assert set(event["requestContext"]) == set(expected["requestContext"]), name
        context = event["requestContext"]
        assert context["domainName"] == f"127.0.0.1:{server.port}"
        assert context["stage"] == "local"
        assert context["identity"] == {"sourceIp": "127.0.0.1"}
        assert API_GATEWAY_ID.match(context["connectionId"])
        assert context["connectedAt"] <= context["requestTimeEpoch"]
    assert connected["queryStringParameters"] == {"customer_id": "cust-42"}
    assert connected["multiValueQueryStringParameters"] == {"customer_id": ["cust-42"]}
    assert connected["headers"]["Host"] == f"127.0.0.1:{server.port}"
    assert {"Sec-WebSocket-Key", "Sec-WebSocket-Version", "X-Forwarded-For"} <= set(connected["headers"])
    assert [e["requestContext"]["routeKey"] for e in (connected, frames[0], gone)] == [
        "$connect",
        "$default",
        "$disconnect",
    ]
    assert len({e["requestContext"]["connectionId"] for e in (connected, *frames, gone)}) == 1
    message_ids = [f["requestContext"]["messageId"] for f in frames]
    assert len(set(message_ids)) == len(frames) == 2  # a fresh messageId per frame
    assert frames[0]["isBase64Encoded"] is False and json.loads(frames[0]["body"]) == {"action": "session"}
    assert frames[1]["isBase64Encoded"] is False and frames[1]["body"] == "not JSON"
    assert gone["requestContext"]["disconnectStatusCode"] == 1000


def test_a_refused_connect_refuses_the_handshake(
    server: ServerThread, recorded: dict[str, list[dict[str, Any]]]
) -> None:
    async def scenario() -> None:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await Client.open(server.ws_url, customer_id="not a valid id!")
        assert refused.value.status == 400

    asyncio.run(scenario())
    assert len(recorded["$connect"]) == 1
    assert recorded["$default"] == [] and recorded["$disconnect"] == []


def test_what_handlers_return_never_reaches_the_client(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = message.handler
    monkeypatch.setattr(message, "handler", lambda e, c: {**real(e, c), "body": "RETURNED BODY"})

    async def every_frame() -> list[str]:
        client = await Client.open(server.ws_url, customer_id="cust-1")
        seen = [json.dumps(f) for f in await client.say("hello", "m-1")]
        seen += [json.dumps(f) for f in await client.ask({"action": "session"}, "session")]
        seen += [json.dumps(f) for f in await client.ask({"action": "history"}, "history")]
        await client.close()
        return seen

    assert not any("RETURNED BODY" in frame for frame in asyncio.run(every_frame()))


def test_a_closed_connection_disconnects_and_its_session_resumes(server: ServerThread) -> None:
    async def scenario() -> None:
        first = await Client.open(server.ws_url, customer_id="cust-7")
        [session] = await first.ask({"action": "session"}, "session")
        await first.say("Where is my order?", "m-1")
        await first.close()
        session_id = session["session_id"]
        await eventually(lambda: status_of(server, session_id) == "disconnected")

        second = await Client.open(server.ws_url, customer_id="cust-7", session_id=session_id)
        [again] = await second.ask({"action": "session"}, "session")
        assert again["session_id"] == session_id and again["resumed"] is True
        [history] = await second.ask({"action": "history"}, "history")
        assert [t["role"] for t in history["turns"]] == ["user", "assistant"]
        replay = await second.say("Where is my order?", "m-1")  # the same id: the stored reply
        assert [f["type"] for f in replay] == ["message"]
        await second.close()

    asyncio.run(scenario())


def test_a_message_over_128_kb_closes_the_connection(server: ServerThread) -> None:
    async def scenario() -> aiohttp.WSMessage:
        client = await Client.open(server.ws_url, customer_id="cust-1")
        await client.ws.send_str("x" * (128 * 1024 + 1))
        closing = await asyncio.wait_for(client.ws.receive(), 15)
        await client.close()
        return closing

    closing = asyncio.run(scenario())
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == aiohttp.WSCloseCode.MESSAGE_TOO_BIG


def test_shutdown_closes_sockets_and_runs_disconnect(start_server: Callable[..., ServerThread]) -> None:
    server = start_server()

    async def connected() -> tuple[Client, str]:
        client = await Client.open(server.ws_url, customer_id="cust-1")
        [session] = await client.ask({"action": "session"}, "session")
        return client, session["session_id"]

    loop = asyncio.new_event_loop()
    try:
        client, session_id = loop.run_until_complete(connected())
        server.stop()
        closing = loop.run_until_complete(asyncio.wait_for(client.ws.receive(), 15))
        loop.run_until_complete(client.close())
    finally:
        loop.close()
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == aiohttp.WSCloseCode.GOING_AWAY
    assert status_of(server, session_id) == "disconnected"


def test_the_chat_page_is_served(server: ServerThread) -> None:
    async def fetch(path: str) -> tuple[int, str]:
        async with aiohttp.ClientSession() as http, http.get(server.http_url + path) as response:
            return response.status, await response.text()

    status, page = asyncio.run(fetch("/"))
    assert status == 200 and "MangaAssist" in page and "/static/app.js" in page
    for asset in ("/static/app.js", "/static/style.css"):
        assert asyncio.run(fetch(asset))[0] == 200
    assert asyncio.run(fetch("/ws"))[0] == 426  # not a WebSocket upgrade


def test_a_dropped_connection_is_an_abnormal_disconnect(
    server: ServerThread, recorded: dict[str, list[dict[str, Any]]]
) -> None:
    async def scenario() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            b"GET /ws?customer_id=cust-1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n"
        )
        assert (await reader.readline()).startswith(b"HTTP/1.1 101")
        writer.transport.abort()  # no close frame: the network dropped
        await eventually(lambda: bool(recorded["$disconnect"]))

    asyncio.run(scenario())
    [gone] = recorded["$disconnect"]
    assert gone["requestContext"]["disconnectStatusCode"] == 1006
