"""The chat page with the limits: a second message waits in the page while the first reply is being
written (one reply at a time per session), then goes out and is answered; a message over the rate is
kept, and the page says in plain words how long to wait. Headless Chromium, the local server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
from dependency_injector import providers

from testing.fakes import ManualClock
from tests.local.browser import Page, browser_page, chromium_path
from tests.local.gated_model import GatedModel
from tests.local.server_thread import ServerThread
from tests.local.test_browser import CONNECTED, RECORD_SENT, TURNS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        chromium_path() is None, reason="Debian's chromium is not installed (apt-get install chromium)"
    ),
]

SENT_MESSAGES = "window.__sent.filter(f => f.action === 'sendMessage').map(f => f.message)"
FINAL_REPLIES = "document.querySelectorAll('.turn-assistant[data-state=\"final\"]').length"
NOTICES = "[...document.querySelectorAll('.notice')].map(n => n.textContent)"
LAST_USER_META = "[...document.querySelectorAll('.turn-user .turn-meta')].at(-1)?.textContent"


def test_the_page_sends_one_message_at_a_time_and_says_when_it_goes_too_fast(
    start_server: Callable[..., ServerThread],
) -> None:
    server = start_server(CUSTOMER_MESSAGES_PER_MINUTE="2")
    model = GatedModel()
    server.container.adapters.llm.override(providers.Object(model))
    server.container.adapters.clock.override(providers.Object(ManualClock()))  # one minute throughout
    executable = chromium_path()
    assert executable is not None

    async def say(page: Page, text: str) -> None:
        await page.evaluate("document.getElementById('message-input').focus()")
        await page.type_text(text)
        await page.press_enter()

    async def scenario() -> None:
        async with browser_page(executable) as page:
            await page.add_init_script(RECORD_SENT)
            await page.goto(server.http_url + "/")
            await page.wait_for(CONNECTED, "the connection")
            await say(page, "A slow one: where is my order?")
            assert await asyncio.to_thread(model.slow_started.wait, 20)  # its reply is being written
            await say(page, "And is volume 3 in stock?")
            await page.wait_for("document.querySelectorAll('.turn-user').length === 2", "both on screen")
            assert json.loads(await page.evaluate(f"JSON.stringify({SENT_MESSAGES})")) == [
                "A slow one: where is my order?"
            ]  # the second waits in the page: no conflict to recover from
            model.released.set()

            await page.wait_for(f"{FINAL_REPLIES} === 2", "both replies")
            assert json.loads(await page.evaluate(f"JSON.stringify({SENT_MESSAGES})")) == [
                "A slow one: where is my order?",
                "And is volume 3 in stock?",
            ]  # each sent once, the second after the first reply
            roles = sorted(role for role, _ in json.loads(await page.evaluate(TURNS)))
            assert roles == ["assistant", "assistant", "user", "user"]
            assert not [n for n in await page.evaluate(NOTICES) if "Sorry" in n]

            await say(page, "One more: any sale on box sets?")  # the third of the minute: over the rate
            notice = await page.wait_for(
                f"{NOTICES}.find(n => n.includes('too fast'))", "the too-fast notice"
            )
            assert "goes out by itself in" in notice and " s." in notice
            meta = await page.evaluate(LAST_USER_META)
            assert meta.startswith("Waiting") and meta.endswith("s…"), meta
            assert await page.evaluate(f"{FINAL_REPLIES}") == 2  # nothing answered, nothing lost
            assert not [line for line in page.console if line.startswith("exception")], page.console

    try:
        asyncio.run(scenario())
    finally:
        model.released.set()
        server.container.adapters.llm.reset_override()
        server.container.adapters.clock.reset_override()
