"""The chat page in a real browser (Playwright driving Debian's Chromium, nothing downloaded) behind
the authorizer: it sends a token by subprotocol, and a guest who reloads the page resumes the same
conversation with the resume token the page kept."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from entrypoints.commands.token import mint
from entrypoints.local.environment import ServeOptions
from tests.local.server_thread import ServerThread

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SECRET = "browser-test-shared-secret-0123456789"
CONNECTED = "document.getElementById('status').dataset.state === 'open'"
REPLIES = "document.querySelectorAll('.turn-assistant[data-state=\"final\"]').length"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed"),
]


@pytest.fixture
def page() -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser.new_context().new_page()
        finally:
            browser.close()


def ask(page: Any, text: str, replies: int) -> None:
    page.fill("#message-input", text)
    page.press("#message-input", "Enter")
    page.wait_for_function(f"{REPLIES} >= {replies}")


def test_the_page_sends_its_token_by_subprotocol(
    start_server: Callable[..., ServerThread], page: Any, connects: list[dict[str, Any]]
) -> None:
    server = start_server(ServeOptions(host="127.0.0.1", port=0, auth="jwt"), AUTH_HS256_SECRET=SECRET)
    token = mint({"AUTH_HS256_SECRET": SECRET}, "cust-browser", agent=False, minutes=5)
    page.goto(f"{server.http_url}/#token={token}")  # a fragment never reaches a server or its logs
    page.wait_for_function(CONNECTED)
    ask(page, "Is volume 3 of Frieren in stock?", 1)
    first = connects[0]
    assert first["headers"]["Sec-WebSocket-Protocol"] == f"manga-assist, {token}"
    assert "token" not in (first.get("queryStringParameters") or {})
    assert first["requestContext"]["authorizer"]["customer_id"] == "cust-browser"
    assert "token=" not in page.url, "the page took the token out of its address"


def test_a_guest_reloads_and_resumes_the_conversation(
    start_server: Callable[..., ServerThread], page: Any, connects: list[dict[str, Any]]
) -> None:
    server = start_server(ServeOptions(host="127.0.0.1", port=0, auth="guest"))
    page.goto(server.http_url + "/")
    page.wait_for_function(CONNECTED)
    ask(page, "Do you ship to Osaka?", 1)
    guest = connects[0]["requestContext"]["authorizer"]["customer_id"]
    assert guest.startswith("guest:")
    session_id = page.evaluate("localStorage.getItem('mangaassist.session_id')")
    assert page.evaluate("localStorage.getItem('mangaassist.token')"), "the resume token was not kept"

    page.reload()
    page.wait_for_function(CONNECTED)
    page.wait_for_function("document.querySelectorAll('.turn').length >= 2")
    resumed = connects[-1]
    assert resumed["requestContext"]["authorizer"]["customer_id"] == guest
    assert resumed["queryStringParameters"]["session_id"] == session_id
    assert page.evaluate("localStorage.getItem('mangaassist.session_id')") == session_id
    assert "Do you ship to Osaka?" in page.inner_text("#conversation")
