"""The chat page in headless Chromium, driven by Playwright: a message streams in, and after a
reload the conversation is still there. Leaves a screenshot in artifacts/chat-page.png."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from dependency_injector import providers

from tests.local.browser import browser_page, chromium_path
from tests.local.gated_model import GatedModel
from tests.local.server_thread import ServerThread

SCREENSHOT = Path(__file__).parents[2] / "artifacts" / "chat-page.png"
QUESTION = "Is volume 3 of Frieren in stock?"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        chromium_path() is None, reason="Debian's chromium is not installed (apt-get install chromium)"
    ),
]

# Records every text the streaming reply shows, to prove that it grew before it was final.
WATCH_STREAM = """() => {
  window.__streamed = [];
  new MutationObserver(() => {
    const bubble = document.querySelector('.turn-assistant[data-state="streaming"] .bubble');
    if (bubble) window.__streamed.push(bubble.textContent);
  }).observe(document.getElementById('conversation'), {subtree: true, childList: true, characterData: true});
}"""
CONNECTED = "document.getElementById('status').dataset.state === 'open'"
FINAL_REPLY = "document.querySelector('.turn-assistant[data-state=\"final\"] .bubble')?.textContent"
TURNS = (
    "JSON.stringify([...document.querySelectorAll('.turn')]"
    ".map(t => [t.dataset.role, t.querySelector('.bubble').textContent]))"
)


def test_chat_page_streams_a_reply_and_restores_it_after_a_reload(
    start_server: Callable[..., ServerThread],
) -> None:
    # A paced model, so that the reply arrives in several chunks as it would from Bedrock.
    server = start_server(FAKE_LLM_FIRST_TOKEN_MS="100", FAKE_LLM_TOKENS_PER_SECOND="40")
    executable = chromium_path()
    assert executable is not None

    async def scenario() -> None:
        async with browser_page(executable) as page:
            await page.goto(server.http_url + "/")
            await page.wait_for(CONNECTED, "the connection")
            assert await page.evaluate("document.title") == "MangaAssist — chat with us"
            await page.evaluate(WATCH_STREAM)

            await page.evaluate("document.getElementById('message-input').focus()")
            await page.type_text(QUESTION)
            await page.press_enter()
            reply = await page.wait_for(FINAL_REPLY, "the final reply")
            assert "in stock" in reply
            streamed = await page.evaluate("window.__streamed")
            assert any(text and text != reply and reply.startswith(text) for text in streamed), streamed
            chunks = await page.evaluate("document.querySelector('.turn-assistant').dataset.chunks")
            assert int(chunks) >= 1
            assert await page.evaluate("document.getElementById('message-input').value") == ""

            await page.reload()
            await page.wait_for(CONNECTED, "the connection after the reload")
            await page.wait_for(
                f"{TURNS}.length > 2 && JSON.parse({TURNS}).length === 2", "the restored history"
            )
            assert json.loads(await page.evaluate(TURNS)) == [["user", QUESTION], ["assistant", reply]]
            await page.screenshot(SCREENSHOT)

            # The server drops the connection (Management API DELETE): the page reconnects by itself,
            # resumes its session and shows the same conversation, once.
            [connection_id] = server.connection_ids()
            await asyncio.to_thread(server.management_api().delete_connection, ConnectionId=connection_id)
            await page.wait_for("document.getElementById('status').dataset.state === 'closed'", "the drop")
            await page.wait_for(CONNECTED, "the reconnection")
            await page.wait_for(f"JSON.parse({TURNS}).length === 2", "the history after reconnecting")
            assert json.loads(await page.evaluate(TURNS)) == [["user", QUESTION], ["assistant", reply]]
            assert server.connection_ids() != [connection_id]

            await page.evaluate("document.getElementById('handoff').click()")
            notice = await page.wait_for(
                "[...document.querySelectorAll('.notice')].map(n => n.textContent).join(' | ')",
                "the handoff's answer",
            )
            assert "human agent" in notice
            assert await page.evaluate("document.getElementById('handoff').disabled") is True
            await page.screenshot(SCREENSHOT.with_name("chat-page-handoff.png"))
            assert not [line for line in page.console if line.startswith("exception")], page.console

    asyncio.run(scenario())
    assert SCREENSHOT.stat().st_size > 10_000


RECORD_SENT = """
window.__sent = [];
const realSend = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) {
  window.__sent.push(JSON.parse(data));
  return realSend.call(this, data);
};
"""
USER_META = "document.querySelector('.turn-user .turn-meta')?.textContent"


def test_a_message_cut_off_by_a_drop_is_resent_with_its_id_and_answered_once(
    start_server: Callable[..., ServerThread],
) -> None:
    server = start_server()
    model = GatedModel()
    server.container.adapters.llm.override(providers.Object(model))
    executable = chromium_path()
    assert executable is not None

    async def scenario() -> None:
        async with browser_page(executable) as page:
            await page.add_init_script(RECORD_SENT)
            await page.goto(server.http_url + "/")
            await page.wait_for(CONNECTED, "the connection")
            await page.evaluate("document.getElementById('message-input').focus()")
            await page.type_text("A slow one: where is my order?")
            await page.press_enter()
            assert await asyncio.to_thread(model.slow_started.wait, 20)  # its reply is being written

            [connection_id] = server.connection_ids()
            await asyncio.to_thread(server.management_api().delete_connection, ConnectionId=connection_id)
            await page.wait_for(CONNECTED + " && window.__sent.length > 3", "the reconnection")
            # The page sent the message again, with its id; the server said it is being answered.
            await page.wait_for(f"({USER_META} || '').includes('Still being answered')", "the conflict")
            model.released.set()

            reply = await page.wait_for(FINAL_REPLY, "the stored reply")
            await page.wait_for(f"{USER_META} === ''", "the message marked answered")
            assert json.loads(await page.evaluate(TURNS)) == [
                ["user", "A slow one: where is my order?"],
                ["assistant", reply],
            ]
            sent = await page.evaluate("window.__sent")
            ids = [f["message_id"] for f in sent if f["action"] == "sendMessage"]
            assert len(ids) >= 3 and len(set(ids)) == 1, sent  # first send, resend, retry: one id

    try:
        asyncio.run(scenario())
    finally:
        model.released.set()
        server.container.adapters.llm.reset_override()
    assert model.slow.calls == 1  # answered once


NOTICES = "JSON.stringify([...document.querySelectorAll('.notice')].map(n => n.textContent))"


def test_chat_page_keeps_frames_within_api_gateways_32_kb(start_server: Callable[..., ServerThread]) -> None:
    """A message whose frame would pass 32 KB is not sent (API Gateway would close the connection);
    a history over 32 KB arrives in parts, and the page shows it whole."""
    server = start_server()
    executable = chromium_path()
    assert executable is not None
    long_message = "漫" * 8000  # 24,000 bytes: the most the server takes, in a frame under 32 KB

    async def scenario() -> None:
        async with browser_page(executable) as page:
            await page.goto(server.http_url + "/")
            await page.wait_for(CONNECTED, "the connection")
            await page.evaluate("document.getElementById('message-input').focus()")

            await page.type_text("漫" * 16_000)  # within the box's 16,000 characters; 48,000 bytes
            await page.press_enter()
            await page.wait_for(f"{NOTICES}.includes('too long')", "the too-long notice")
            assert json.loads(await page.evaluate(TURNS)) == []
            assert await page.evaluate("document.getElementById('message-input').value.length") == 16_000
            assert await page.evaluate(CONNECTED)

            await page.evaluate("document.getElementById('message-input').value = ''")
            for n in range(3):
                await page.type_text(f"{n} {long_message}")
                await page.press_enter()
                await page.wait_for(f"JSON.parse({TURNS}).length === {2 * (n + 1)}", f"reply {n}")
                await page.wait_for(
                    "!document.querySelector('.turn-assistant[data-state=\"streaming\"]')", f"reply {n} final"
                )
            shown = json.loads(await page.evaluate(TURNS))

            await page.reload()
            await page.wait_for(CONNECTED, "the connection after the reload")
            await page.wait_for(f"JSON.parse({TURNS}).length === 6", "the restored history, in parts")
            assert json.loads(await page.evaluate(TURNS)) == shown
            assert shown[0] == ["user", f"0 {long_message}"]

    asyncio.run(scenario())
