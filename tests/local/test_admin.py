"""The local server's operator endpoints and in-process workers, with the memory store."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from dependency_injector import providers

from entrypoints.cli import main
from entrypoints.local import admin
from testing.fakes import ManualClock
from tests.local.client import Client, eventually
from tests.local.server_thread import ServerThread


def test_summaries_handoff_and_inspect_work_in_the_running_server(server: ServerThread) -> None:
    async def scenario() -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
        client = await Client.open(server.ws_url, customer_id="cust-admin")
        session = (await client.ask({"action": "session"}, "session"))[-1]
        for n in range(5):
            await client.say(f"question {n} about Frieren", f"m-{n}")
        async with aiohttp.ClientSession() as http:
            url = f"{server.http_url}/admin/sessions/{session['session_id']}"

            async def summarized() -> bool:
                async with http.get(url) as response:
                    body = await response.json()
                    return any(e["kind"] == "summary" for e in body["timeline"])

            for _ in range(500):  # the workers run in the background: wait for them, boundedly
                if await summarized():
                    break
                await asyncio.sleep(0.01)
            async with http.post(
                f"{server.http_url}/admin/handoff",
                json={"session_id": session["session_id"], "agent_id": "agent-1", "reason": "VIP"},
            ) as response:
                handed = await response.json()
            async with http.get(url) as response:
                timeline = await response.json()
        frames = await client.until("handoff")
        await client.close()
        return session["session_id"], {"handed": handed, **timeline}, frames

    session_id, timeline, frames = server.call(scenario())
    assert timeline["handed"]["statusCode"] == 200 and timeline["handed"]["status"] == "handoff"
    assert frames[-1]["type"] == "handoff" and frames[-1]["agent_id"] == "agent-1"
    kinds = [e["kind"] for e in timeline["timeline"]]
    assert kinds.count("summary") == 1 and kinds.count("handoff") == 1 and kinds.count("turn") == 11
    assert "question 0" not in json.dumps(timeline)  # no customer words unless asked for

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["inspect", session_id, "--server", server.http_url]) == 0
    assert f"session {session_id}" in out.getvalue() and "handoff" in out.getvalue()


def test_an_unknown_session_is_a_404_and_inspect_says_so(server: ServerThread) -> None:
    async def get() -> int:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{server.http_url}/admin/sessions/nope") as response,
        ):
            return response.status

    assert server.call(get()) == 404
    assert main(["inspect", "nope", "--server", server.http_url]) == 1


def test_an_expired_session_is_cleaned_up_and_its_socket_closed(
    start_server: Callable[..., ServerThread],
) -> None:
    server = start_server(SESSION_TTL_SECONDS="60")

    async def scenario() -> aiohttp.WSMessage:
        client = await Client.open(server.ws_url, customer_id="cust-ttl")
        await client.say("hello", "m-1")
        workers = server.app[admin.WORKERS]
        later = ManualClock(datetime.now(UTC) + timedelta(seconds=61))
        server.container.adapters.clock.override(providers.Object(later))
        assert await asyncio.to_thread(workers.sweep) == 1
        message = await asyncio.wait_for(client.ws.receive(), 10)
        await client.http.close()
        return message

    closing = server.call(scenario())
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
    server.container.adapters.clock.reset_override()

    async def empty() -> None:
        await eventually(lambda: not server.container.adapters.repository()._turns)

    server.call(empty())


def test_usage_reads_a_running_servers_memory_store(server: ServerThread) -> None:
    async def chat() -> None:  # a guest: the server names the customer
        client = await Client.open(server.ws_url)
        await client.ask({"action": "session"}, "session")
        for n in range(2):
            await client.say(f"question {n} about Frieren", f"m-{n}")
        await client.close()

    server.call(chat())
    customers = server.container.adapters.repository().usage_of_day(
        server.container.adapters.clock().now().date().isoformat()
    )
    (mine,) = [c for c in customers if c.replies == 2]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["usage", "--customer", mine.customer, "--server", server.http_url, "--json"]) == 0
    # The server runs in this process: its last metrics line may land in the same stdout, either side.
    text = out.getvalue()
    report, _ = json.JSONDecoder().raw_decode(text, text.index("{\n"))
    assert [(d["tokens"], d["replies"]) for d in report["days"]] == [(mine.tokens, 2)]
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["usage", "--day", "not-a-day", "--server", server.http_url]) == 2
