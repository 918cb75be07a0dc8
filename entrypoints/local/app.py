"""The local gateway as one aiohttp application: ``/ws``, ``/@connections/{id}`` and the chat page."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from aiohttp import WSCloseCode, web

from entrypoints.container import get_container
from entrypoints.inprocess import InProcessWorkers
from entrypoints.local import admin
from entrypoints.local.apigw_events import STAGE
from entrypoints.local.authorization import LocalAuthorizer
from entrypoints.local.connections import ConnectionRegistry
from entrypoints.local.environment import ServeOptions, display_host
from entrypoints.local.guards import loopback_management_api, same_origin_only
from entrypoints.local.handoff_sweep import unclaimed_sweep
from entrypoints.local.lambda_runtime import LambdaInvoker
from entrypoints.local.management_api import ManagementApi, require_signature
from entrypoints.local.streams import StreamWorkers
from entrypoints.local.websocket_route import WebSocketGateway

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
REGISTRY = web.AppKey("registry", ConnectionRegistry)
INVOKER = web.AppKey("invoker", LambdaInvoker)
STREAM_WORKERS = web.AppKey("stream_workers", StreamWorkers)
NO_CACHE = {"Cache-Control": "no-cache"}


def make_app(
    options: ServeOptions, port: int, region: str, invoker: LambdaInvoker | None = None
) -> web.Application:
    """The handlers find their container through ``entrypoints.container.get_container()``: install
    it (``set_container``) before the first connection."""
    registry = ConnectionRegistry()
    limits = options.limits
    invoker = invoker or LambdaInvoker(region, workers=options.workers, timeout=limits.integration_timeout)
    gateway = WebSocketGateway(
        registry,
        invoker,
        f"{display_host(options.host)}:{port}",
        LocalAuthorizer(options.auth or "guest", region),
        limits,
        options.auth or "guest",
    )
    app = web.Application(
        middlewares=[same_origin_only(options), loopback_management_api(options), require_signature]
    )
    app[REGISTRY] = registry
    app[INVOKER] = invoker
    app.router.add_get("/", _index)
    app.router.add_get("/agent", _agent_page)
    app.router.add_get("/ws", gateway.handle)
    app.router.add_get(f"/{STAGE}", gateway.handle)  # the shape of a deployed stage's URL
    app.router.add_routes(ManagementApi(registry).routes())
    app.router.add_static("/static/", STATIC, append_version=False)
    if is_loopback(options.host):
        app.router.add_routes(admin.routes())
    app.on_response_prepare.append(_no_cache_for_static)
    app.on_startup.append(_start_workers)
    app.cleanup_ctx.append(unclaimed_sweep)
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
    if container.config.session_store() == "memory":
        notifier = container.adapters.notifier(endpoint=container.config.websocket_callback_url())
        workers = InProcessWorkers(container, notifier)
        workers.start()
        app[admin.WORKERS] = workers
    elif os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL"):
        # A local table (moto): nobody else consumes its stream, so do it here, as Lambda would.
        adapters = container.adapters
        streams = adapters.boto_session().client("dynamodbstreams", region_name=container.config.region())
        stream_workers = StreamWorkers(
            adapters.dynamodb_client(),
            streams,
            container.config.session_table(),
            container.config.region(),
            adapters.clock(),
        )
        stream_workers.start()
        app[STREAM_WORKERS] = stream_workers
    else:
        log.info("a table in AWS: its stream is consumed by the deployed functions, not here")


async def _stop_workers(app: web.Application) -> None:
    for key in (admin.WORKERS, STREAM_WORKERS):
        workers = app.get(key)
        if workers is not None:
            workers.stop()


async def _index(_request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "index.html", headers=NO_CACHE)


async def _agent_page(_request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "agent.html", headers=NO_CACHE)


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
