"""A WebSocket client for the tests: send frames, collect what the server pushes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiohttp
from yarl import URL

WAIT = 15.0  # a bound for a frame that must come, never an assertion on timing


class Client:
    def __init__(self, http: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.http = http
        self.ws = ws

    @classmethod
    async def open(cls, url: str, **query: str) -> Client:
        http = aiohttp.ClientSession()
        try:
            ws = await http.ws_connect(URL(url).update_query(query))
        except BaseException:
            await http.close()
            raise
        return cls(http, ws)

    async def close(self) -> None:
        await self.ws.close()
        await self.http.close()

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(frame))

    async def receive(self) -> dict[str, Any]:
        message = await asyncio.wait_for(self.ws.receive(), WAIT)
        if message.type != aiohttp.WSMsgType.TEXT:
            raise AssertionError(f"expected a text frame, got {message.type!r} {message.data!r}")
        frame: dict[str, Any] = json.loads(message.data)
        return frame

    async def until(self, *types: str) -> list[dict[str, Any]]:
        """Frames up to and including the first of one of ``types``."""
        frames = []
        while True:
            frame = await self.receive()
            frames.append(frame)
            if frame.get("type") in types:
                return frames

    async def ask(self, frame: dict[str, Any], *types: str) -> list[dict[str, Any]]:
        await self.send(frame)
        return await self.until(*types)

    async def say(self, text: str, message_id: str) -> list[dict[str, Any]]:
        return await self.ask(
            {"action": "sendMessage", "message": text, "message_id": message_id}, "message", "error"
        )


async def eventually(condition: Callable[[], bool]) -> None:
    """Wait for something the server does after answering (a bound, never a timing assertion)."""
    for _ in range(1500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never became true")
