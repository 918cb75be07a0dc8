"""``manga-assist serve`` as a user runs it: a process that prints its URL and stops on Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys

import aiohttp

from tests.local.client import Client


def test_serve_prints_its_url_and_stops_cleanly_on_ctrl_c() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli", "serve", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "POWERTOOLS_LOG_LEVEL": "WARNING"},
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(5)]
        page = re.search(r"chat page\s+(http://127\.0\.0\.1:\d+/)", "".join(banner))
        assert page, banner

        async def scenario() -> aiohttp.WSMessage:
            async with aiohttp.ClientSession() as http, http.get(page.group(1)) as response:
                assert response.status == 200 and "MangaAssist" in await response.text()
            client = await Client.open(page.group(1).replace("http", "ws") + "ws", customer_id="cust-1")
            [session] = await client.ask({"action": "session"}, "session")
            assert session["status"] == "active"
            process.send_signal(signal.SIGINT)
            closing = await asyncio.wait_for(client.ws.receive(), 15)
            await client.close()
            return closing

        closing = asyncio.run(scenario())
        assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == aiohttp.WSCloseCode.GOING_AWAY
        assert process.wait(timeout=30) == 0
        assert "stopped" in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
