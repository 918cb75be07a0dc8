"""What the handoff function's one-minute schedule does in AWS, done by the local server: customers
whose handoff nobody has claimed in ``HANDOFF_UNCLAIMED_SECONDS`` are told so (once per wait)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from entrypoints.container import get_container

log = logging.getLogger(__name__)

SWEEP_SECONDS = 10.0


async def unclaimed_sweep(_app: web.Application) -> AsyncIterator[None]:
    """An aiohttp cleanup context: the sweep runs while the server does."""
    task = asyncio.create_task(_sweep_forever())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _sweep_forever() -> None:
    while True:
        await asyncio.sleep(SWEEP_SECONDS)
        try:
            told = await asyncio.to_thread(_sweep_once)
        except Exception:  # the next round tries again; a local server keeps serving
            log.warning("the unclaimed-handoff sweep failed", exc_info=True)
            continue
        if told:
            log.info("told %d customer(s) that no agent has claimed their handoff yet", told)


def _sweep_once() -> int:
    container = get_container()
    notifier = container.adapters.notifier(endpoint=container.config.websocket_callback_url())
    return int(container.use_cases.notify_unclaimed(notifier=notifier)())
