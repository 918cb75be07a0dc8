"""A customer's chat page and an agent's console in one headless Chromium, against ``serve`` (memory
store, fake model, ``--auth none``: the console on this machine is an agent by ``?agent=``). The
customer asks for a human, the agent claims the conversation, both talk, the agent hands it back,
and the bot answers again knowing what the agent said. Screenshots land in artifacts/."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dependency_injector import providers

from entrypoints.local.environment import ServeOptions
from testing.model import RecordingModel
from tests.local.server_thread import ServerThread

playwright = pytest.importorskip("playwright.sync_api")

ARTIFACTS = Path(__file__).parents[2] / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TIMEOUT_MS = 20_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def browser() -> Iterator[object]:
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()


def test_a_customer_and_an_agent_talk_and_the_bot_takes_over_again(
    start_server: Callable[..., ServerThread], browser: object
) -> None:
    server = start_server(ServeOptions(host="127.0.0.1", port=0, auth="none"))
    model = RecordingModel()  # the fake model's replies, and the prompts it was given
    server.container.adapters.llm.override(providers.Object(model))
    customer = browser.new_page(viewport={"width": 900, "height": 900})  # type: ignore[attr-defined]
    agent = browser.new_page(viewport={"width": 1200, "height": 900})  # type: ignore[attr-defined]
    for page in (customer, agent):
        page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    for page in (customer, agent):
        page.on("pageerror", lambda error: errors.append(str(error)))

    customer.goto(server.http_url + "/")
    agent.goto(server.http_url + "/agent?agent=mika")
    customer.wait_for_selector('#status[data-state="open"]')
    agent.wait_for_selector('#status[data-state="open"]')
    assert agent.text_content("#agent-name") == "mika"
    assert agent.locator("#queue .entry").count() == 0

    # The bot answers first.
    customer.fill("#message-input", "Is volume 3 of Frieren in stock?")
    customer.press("#message-input", "Enter")
    customer.wait_for_selector('.turn-assistant[data-state="final"]')

    # The customer asks for a human: the console's queue shows them waiting.
    customer.click("#handoff")
    customer.wait_for_selector(".notice:has-text('queue for a human agent')")
    agent.wait_for_selector('#queue .entry[data-status="waiting"] button.claim')
    assert "asked for a human" in (agent.text_content("#queue .entry .entry-reason") or "")

    # The agent claims it and sees the conversation so far; the customer hears who joined.
    agent.click('#queue .entry[data-status="waiting"] button.claim')
    agent.wait_for_selector("#conversation .turn-customer:has-text('Is volume 3 of Frieren in stock?')")
    agent.wait_for_selector('#queue .entry[data-mine="true"]')
    customer.wait_for_selector(".notice:has-text('mika joined the conversation')")

    # They talk.
    customer.fill("#message-input", "My parcel arrived damaged")
    customer.press("#message-input", "Enter")
    customer.wait_for_selector(".turn-user .turn-meta:has-text('Sent to the agent')")
    agent.wait_for_selector("#conversation .turn-customer:has-text('My parcel arrived damaged')")
    agent.fill("#reply-input", "Sorry! A new copy of volume 3 ships today.")
    agent.press("#reply-input", "Enter")
    reply = customer.wait_for_selector(".turn-assistant:has-text('A new copy of volume 3 ships today')")
    assert "Support agent" in (reply.text_content() or "")
    agent.wait_for_selector("#conversation .turn-agent .turn-meta:has-text('Sending')", state="detached")
    ARTIFACTS.mkdir(exist_ok=True)
    agent.screenshot(path=str(ARTIFACTS / "agent-console.png"))
    customer.screenshot(path=str(ARTIFACTS / "customer-with-agent.png"))

    # The agent hands the conversation back; the bot answers again and knows what the agent said.
    agent.click("#release")
    agent.wait_for_selector(".notice:has-text('Handed back to MangaAssist')")
    customer.wait_for_selector(".notice:has-text('handed the conversation back to MangaAssist')")
    assert customer.is_enabled("#handoff")
    answered = customer.locator('.turn-assistant[data-state="final"]').count()
    customer.fill("#message-input", "Thanks! Any new Frieren volumes?")
    customer.press("#message-input", "Enter")
    customer.wait_for_function(
        f"document.querySelectorAll('.turn-assistant[data-state=\"final\"]').length > {answered}"
    )
    prompt = model.prompts[-1]
    context = " ".join([*prompt.system, *(m.text for m in prompt.messages)])
    assert "A new copy of volume 3 ships today" in context and "mika" in context
    customer.screenshot(path=str(ARTIFACTS / "customer-after-release.png"))
    agent.screenshot(path=str(ARTIFACTS / "agent-console-after-release.png"))
    assert errors == []
    assert (ARTIFACTS / "agent-console.png").stat().st_size > 10_000
