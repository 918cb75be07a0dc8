"""``/@connections/{connection_id}``: the API Gateway Management API (POST, GET, DELETE) with the
status codes and error headers that the real boto3 ``apigatewaymanagementapi`` client understands:
the error code travels in ``x-amzn-ErrorType``, so a 410 raises ``GoneException``."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import WSCloseCode, web

from entrypoints.local.connections import ConnectionGone, ConnectionRegistry

log = logging.getLogger(__name__)

MAX_DATA_BYTES = 128 * 1024  # PostToConnection's ``Data`` is at most 131072 bytes
PATH = "/@connections/{connection_id}"


def aws_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status, headers={"x-amzn-ErrorType": code})


def gone(connection_id: str) -> web.Response:
    return aws_error(410, "GoneException", f"Connection {connection_id} is gone")


class ManagementApi:
    def __init__(self, registry: ConnectionRegistry) -> None:
        self._registry = registry
        self._closing: set[asyncio.Task[None]] = set()

    def routes(self) -> list[web.RouteDef]:
        return [web.post(PATH, self.post), web.get(PATH, self.get), web.delete(PATH, self.delete)]

    async def post(self, request: web.Request) -> web.Response:
        connection_id = request.match_info["connection_id"]
        if (request.content_length or 0) > MAX_DATA_BYTES:
            return _too_large()
        data = await request.content.read(MAX_DATA_BYTES + 1)
        if len(data) > MAX_DATA_BYTES:
            return _too_large()
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


def _too_large() -> web.Response:
    return aws_error(413, "PayloadTooLargeException", f"Data is larger than {MAX_DATA_BYTES} bytes")
