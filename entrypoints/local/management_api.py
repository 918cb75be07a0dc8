"""``/@connections/{connection_id}``: the API Gateway Management API (POST, GET, DELETE) with the
status codes and error headers that the real boto3 ``apigatewaymanagementapi`` client understands:
the error code travels in ``x-amzn-ErrorType``, so a 410 raises ``GoneException``.

Served at ``/{stage}/@connections/...`` too, the path of a deployed API's endpoint
(``https://{api-id}.execute-api.{region}.amazonaws.com/{stage}``). As in AWS, a request must be signed
(SigV4): an unsigned one is refused with 403, so that code which forgets to sign fails here first."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import WSCloseCode, web
from aiohttp.typedefs import Handler

from entrypoints.local.connections import ConnectionGone, ConnectionRegistry
from entrypoints.local.guards import MANAGEMENT_API_PREFIXES

log = logging.getLogger(__name__)

MAX_DATA_BYTES = 128 * 1024  # PostToConnection's ``Data`` is at most 128 KB
PATHS = tuple(f"{prefix}{{connection_id}}" for prefix in MANAGEMENT_API_PREFIXES)
SIGNATURE = "AWS4-HMAC-SHA256 "


def aws_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status, headers={"x-amzn-ErrorType": code})


def gone(connection_id: str) -> web.Response:
    return aws_error(410, "GoneException", f"Connection {connection_id} is gone")


@web.middleware
async def require_signature(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(MANAGEMENT_API_PREFIXES) and not request.headers.get(
        "Authorization", ""
    ).startswith(SIGNATURE):
        return aws_error(403, "ForbiddenException", "Missing Authentication Token")
    return await handler(request)


class ManagementApi:
    def __init__(self, registry: ConnectionRegistry) -> None:
        self._registry = registry
        self._closing: set[asyncio.Task[None]] = set()

    def routes(self) -> list[web.RouteDef]:
        return [
            route
            for path in PATHS
            for route in (web.post(path, self.post), web.get(path, self.get), web.delete(path, self.delete))
        ]

    async def post(self, request: web.Request) -> web.Response:
        connection_id = request.match_info["connection_id"]
        data = await _body(request, MAX_DATA_BYTES)
        if data is None:
            return aws_error(413, "PayloadTooLargeException", f"Data is larger than {MAX_DATA_BYTES} bytes")
        try:
            # Answered only once the frame is written: one caller's frames keep their order.
            await self._registry.get(connection_id).send(data)
        except ConnectionGone:
            return gone(connection_id)
        return web.Response(status=200)

    async def get(self, request: web.Request) -> web.Response:
        connection_id = request.match_info["connection_id"]
        try:
            connection = self._registry.get(connection_id)
        except ConnectionGone:
            return gone(connection_id)
        return web.json_response(connection.info())

    async def delete(self, request: web.Request) -> web.Response:
        connection_id = request.match_info["connection_id"]
        try:
            connection = self._registry.get(connection_id)
        except ConnectionGone:
            return gone(connection_id)
        connection.closed_by_api = True
        self._registry.remove(connection_id)  # later posts get 410 at once
        # The closing handshake waits for the client; the caller does not.
        task = asyncio.ensure_future(connection.close(WSCloseCode.OK, b"Connection closed by the API"))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
        return web.Response(status=204)


async def _body(request: web.Request, limit: int) -> bytes | None:
    """The whole body, read to its end (one ``read`` returns what has arrived so far, which for a
    large body is only its start); None past ``limit``."""
    if (request.content_length or 0) > limit:
        return None
    body = bytearray()
    while chunk := await request.content.read(limit + 1 - len(body) or 1):
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)
