"""Handlers run off the event loop: one slow reply never stalls another connection. Checked by the
order of events (the slow model is held until the fast reply is in), never by timings."""

from __future__ import annotations

import asyncio

from dependency_injector import providers

from tests.local.client import Client
from tests.local.gated_model import GatedModel
from tests.local.server_thread import ServerThread


def test_a_slow_reply_does_not_stall_other_connections(server: ServerThread) -> None:
    model = GatedModel()
    server.container.adapters.llm.override(providers.Object(model))

    async def scenario() -> None:
        slow = await Client.open(server.ws_url, customer_id="cust-slow")
        fast = await Client.open(server.ws_url, customer_id="cust-fast")
        await slow.send({"action": "sendMessage", "message": "a slow question", "message_id": "s-1"})
        assert await asyncio.to_thread(model.slow_started.wait, 15)  # its handler holds a worker

        # The slow connection itself still gets its other frames answered meanwhile.
        [session] = await slow.ask({"action": "session"}, "session")
        assert session["status"] == "active"
        for n in range(3):
            frames = await fast.say(f"where is my order {n}?", f"f-{n}")
            assert frames[-1]["type"] == "message" and frames[-1]["reply_to"] == f"f-{n}"
        assert not model.released.is_set()  # all that happened while the slow reply was held

        model.released.set()
        frames = await slow.until("message", "error")
        assert frames[-1]["type"] == "message" and frames[-1]["reply_to"] == "s-1"
        assert [f["index"] for f in frames[:-1]] == list(range(len(frames) - 1))
        await slow.close()
        await fast.close()

    try:
        asyncio.run(scenario())
    finally:
        model.released.set()
        server.container.adapters.llm.reset_override()
