"""Headless Chromium for the browser tests, driven by Playwright: Debian's ``chromium`` (found on
the PATH, launched by ``executable_path``), never a browser Playwright downloads. ``Page`` keeps
the tests' own words (wait for a condition, type, press Enter) over Playwright's page."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page as PlaywrightPage
from playwright.async_api import async_playwright

WAIT_MS = 20_000  # a bound for something that must happen, never an assertion on timing


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Page:
    def __init__(self, page: PlaywrightPage) -> None:
        self._page = page
        self.console: list[str] = []
        page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: self.console.append(f"exception: {error}"))

    async def goto(self, url: str) -> None:
        await self._page.goto(url)

    async def reload(self) -> None:
        await self._page.reload()

    async def add_init_script(self, script: str) -> None:
        """Run ``script`` in every document this page loads, before the page's own scripts."""
        await self._page.add_init_script(script)

    async def evaluate(self, expression: str) -> Any:
        return await self._page.evaluate(expression)

    async def wait_for(self, expression: str, what: str) -> Any:
        """The value of ``expression`` once it is truthy; fails naming ``what`` never happened."""
        try:
            handle = await self._page.wait_for_function(expression, timeout=WAIT_MS)
        except PlaywrightError as error:
            raise AssertionError(f"{what} never happened ({expression}); console: {self.console}") from error
        return await handle.json_value()

    async def type_text(self, text: str) -> None:
        """Text into the focused field as typing inserts it (an input event, not a key per character)."""
        await self._page.keyboard.insert_text(text)

    async def press_enter(self) -> None:
        await self._page.keyboard.press("Enter")

    async def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        await self._page.screenshot(path=str(path))


@contextlib.asynccontextmanager
async def browser_page(executable: str) -> AsyncIterator[Page]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            context = await browser.new_context(viewport={"width": 1000, "height": 860})
            yield Page(await context.new_page())
        finally:
            await browser.close()
