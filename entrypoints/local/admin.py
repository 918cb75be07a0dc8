"""Operator endpoints of the local server, for the memory store that lives inside it:

- ``GET  /admin/sessions/{session_id}[?content=1]``: the session's timeline (``inspect --server``);
- ``POST /admin/handoff``: the handoff function's direct invoke (an agent console: start, reply,
  release);
- ``POST /admin/redrive``: replay the writes the in-process turn writer set aside (``redrive --server``);
- ``GET  /admin/usage[?customer=ID|?day=YYYY-MM-DD]``: tokens per customer-day (``usage --server``).

Mounted only when the server listens on a loopback address: they read private conversations."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from application.usage import UsageReport
from domain.errors import SessionNotFound
from entrypoints import handoff
from entrypoints.commands.usage import DAY_PATTERN
from entrypoints.container import get_container
from entrypoints.inprocess import InProcessWorkers

WORKERS = web.AppKey("workers", InProcessWorkers)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/admin/sessions/{session_id}", _timeline),
        web.post("/admin/handoff", _handoff),
        web.post("/admin/redrive", _redrive),
        web.get("/admin/usage", _usage),
    ]


async def _timeline(request: web.Request) -> web.Response:
    container = get_container()
    use_case = container.use_cases.session_timeline()
    with_content = request.query.get("content") == "1"
    try:
        timeline = await asyncio.to_thread(use_case, request.match_info["session_id"], with_content)
    except SessionNotFound:
        return web.json_response({"message": "no such session"}, status=404)
    return web.json_response(timeline.as_dict())


async def _handoff(request: web.Request) -> web.Response:
    try:
        event: Any = await request.json()
    except json.JSONDecodeError:
        return web.json_response({"message": "the body must be JSON"}, status=400)
    result = await asyncio.to_thread(handoff.handler, event, None)
    return web.json_response(result, status=int(result.get("statusCode", 200)))


async def _redrive(request: web.Request) -> web.Response:
    workers = request.app.get(WORKERS)
    if workers is None:
        return web.json_response({"message": "no in-process workers: the store is not in memory"}, status=409)
    report = await asyncio.to_thread(workers.redrive)
    return web.json_response(report)


async def _usage(request: web.Request) -> web.Response:
    container = get_container()
    report = UsageReport(
        container.adapters.repository(), container.adapters.clock(), container.use_cases.settings().limits
    )
    customer = request.query.get("customer")
    if customer:
        return web.json_response(await asyncio.to_thread(report.customer, customer))
    day = request.query.get("day")
    if day is not None and not DAY_PATTERN.match(day):
        return web.json_response({"message": "day must be a UTC date like 2026-12-01"}, status=400)
    return web.json_response(await asyncio.to_thread(report.day, day))
