"""The local gateway as one aiohttp application: ``/ws``, ``/@connections/{id}`` and the chat page."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from aiohttp import WSCloseCode, web

from entrypoints.container import get_container
from entrypoints.inprocess import InProcessWorkers
from entrypoints.local import admin
from entrypoints.local.connections import ConnectionRegistry
from entrypoints.local.environment import ServeOptions, display_host
from entrypoints.local.lambda_runtime import LambdaInvoker
from entrypoints.local.management_api import ManagementApi
from entrypoints.local.websocket_route import WebSocketGateway

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
REGISTRY = web.AppKey("registry", ConnectionRegistry)
INVOKER = web.AppKey("invoker", LambdaInvoker)
NO_CACHE = {"Cache-Control": "no-cache"}


def make_app(
    options: ServeOptions, port: int, region: str, invoker: LambdaInvoker | None = None
) -> web.Application:
    """The handlers find their container through ``entrypoints.container.get_container()``: install
    it (``set_container``) before the first connection."""
    registry = ConnectionRegistry()
    invoker = invoker or LambdaInvoker(region, workers=options.workers)
    gateway = WebSocketGateway(registry, invoker, f"{display_host(options.host)}:{port}")
    app = web.Application()
    app[REGISTRY] = registry
    app[INVOKER] = invoker
    app.router.add_get("/", _index)
    app.router.add_get("/ws", gateway.handle)
    app.router.add_routes(ManagementApi(registry).routes())
    app.router.add_static("/static/", STATIC, append_version=False)
    if is_loopback(options.host):
        app.router.add_routes(admin.routes())
    app.on_response_prepare.append(_no_cache_for_static)
    app.on_startup.append(_start_workers)
    app.on_shutdown.append(_close_connections)
    app.on_cleanup.append(_stop_invoker)
    app.on_cleanup.append(_stop_workers)
    return app


def is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


async def _start_workers(app: web.Application) -> None:
    """With the memory store, the asynchronous half (summaries, expiry, the turn writer) runs here,
    pushing through this server's own Management API as the Lambda functions would."""
    container = get_container()
    if container.config.session_store() != "memory":
        log.info("store is not in memory: summaries and cleanup run where its stream is consumed")
        return
    notifier = container.adapters.notifier(endpoint=container.config.websocket_callback_url())
    workers = InProcessWorkers(container, notifier)
    workers.start()
    app[admin.WORKERS] = workers


async def _stop_workers(app: web.Application) -> None:
    workers = app.get(admin.WORKERS)
    if workers is not None:
        workers.stop()


async def _index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "index.html", headers=NO_CACHE)


async def _no_cache_for_static(request: web.Request, response: web.StreamResponse) -> None:
    # The page is edited often while developing; always revalidate it.
    if request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-cache")


async def _close_connections(app: web.Application) -> None:
    """Ctrl-C: every client sees a clean close, and each connection gets its ``$disconnect``."""
    connections = app[REGISTRY].all()
    if connections:
        log.info("closing %d connection(s)", len(connections))
    await asyncio.gather(
        *(c.close(WSCloseCode.GOING_AWAY, b"Server shutting down") for c in connections),
        return_exceptions=True,
    )


async def _stop_invoker(app: web.Application) -> None:
    invoker = app[INVOKER]
    await invoker.drain()
    invoker.close()
