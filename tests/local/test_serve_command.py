"""``manga-assist serve`` as a user runs it: a process that prints its URL and stops on Ctrl-C."""

from __future__ import annotations

import asyncio
import json
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


def serve_and_talk(*flags: str) -> tuple[str, str]:
    """Run ``serve`` with ``flags``, hold one short conversation, Ctrl-C; its stdout and stderr."""
    process = subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli", "serve", "--host", "127.0.0.1", "--port", "0", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = "".join(process.stdout.readline() for _ in range(5))
        found = re.search(r"WebSocket\s+(ws://127\.0\.0\.1:\d+/ws)", banner)
        assert found, banner

        async def scenario() -> None:
            client = await Client.open(found.group(1), customer_id="cust-logs")
            await client.ask({"action": "session"}, "session")
            await client.say("Where is my order?", "m-1")
            await client.close()

        asyncio.run(scenario())
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
        return banner + out, err
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_logs_one_readable_line_per_event_and_no_metrics_by_default() -> None:
    out, err = serve_and_talk()
    lines = err.splitlines()
    readable = re.compile(r"^\d\d:\d\d:\d\d[,.]\d{3} (INFO|WARNING|ERROR|DEBUG)\s+\S+\s+\S")
    assert lines and all(readable.match(line) for line in lines), lines
    handled = [line for line in lines if " message " in line and "message handled" in line]
    assert handled and "conn=" in handled[0] and "session=" in handled[0] and "msg=m-1" in handled[0]
    assert '"_aws"' not in out + err  # no CloudWatch metric blobs between the lines
    assert "Traceback" not in err


def test_serve_logs_json_on_request_and_metrics_when_verbose() -> None:
    out, err = serve_and_talk("--log-format", "json", "--verbose")
    records = [json.loads(line) for line in err.splitlines()]
    assert any(r.get("message") == "message handled" and r.get("message_id") == "m-1" for r in records)
    assert '"_aws"' in out  # the metrics, in Embedded Metric Format, as Lambda prints them
