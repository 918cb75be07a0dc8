"""``/ws``: the WebSocket side of API Gateway. The handshake waits for ``$connect`` (a non-2xx answer
refuses it, before the upgrade); each frame becomes a ``$default`` invocation, run concurrently as
API Gateway does; the close becomes ``$disconnect``. Nothing a handler returns reaches the client:
frames reach it only through the Management API."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import WSCloseCode, WSMsgType, web
from attrs import evolve

from entrypoints.credentials import SUBPROTOCOL
from entrypoints.local.apigw_events import (
    ConnectionFacts,
    apigw_id,
    connect_event,
    disconnect_event,
    header_pairs,
    message_event,
    now_ms,
)
from entrypoints.local.authorization import LocalAuthorizer
from entrypoints.local.connections import ConnectionRegistry, LocalConnection
from entrypoints.local.lambda_runtime import LambdaInvoker

log = logging.getLogger(__name__)

# API Gateway's largest WebSocket message (frames of up to 32 KB may be joined up to this size).
MAX_MESSAGE_BYTES = 128 * 1024
CLOSE_REASONS: dict[int, str] = {
    WSCloseCode.OK: "Normal closure",
    WSCloseCode.GOING_AWAY: "Going away",
    WSCloseCode.ABNORMAL_CLOSURE: "Connection closed abnormally",
    WSCloseCode.MESSAGE_TOO_BIG: "Message too big",
}
_REFUSALS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 500: "Internal server error"}
NO_STATUS = 1005  # RFC 6455: a close frame without a status code


class WebSocketGateway:
    def __init__(
        self,
        registry: ConnectionRegistry,
        invoker: LambdaInvoker,
        domain_name: str,
        authorizer: LocalAuthorizer | None = None,
    ) -> None:
        self._registry = registry
        self._invoker = invoker
        self._domain_name = domain_name
        self._authorizer = authorizer

    async def handle(self, request: web.Request) -> web.StreamResponse:
        # A client that offers our subprotocol (a browser sending its token in it) gets it selected,
        # as $connect's answer selects it in API Gateway.
        socket = web.WebSocketResponse(max_msg_size=MAX_MESSAGE_BYTES, protocols=(SUBPROTOCOL,))
        if not socket.can_prepare(request).ok:
            return web.json_response(
                {"message": "Upgrade Required"}, status=426, headers={"Upgrade": "websocket"}
            )
        facts = self._facts(request)
        event = connect_event(facts)
        refusal = await self._authorizer.admit(event) if self._authorizer else None
        if refusal is not None:
            return refusal
        facts = evolve(facts, authorizer=event["requestContext"].get("authorizer"))
        status = await self._invoker.invoke("$connect", event)
        if not 200 <= status < 300:
            log.info("handshake refused: $connect answered %s", status)
            refused = status if 400 <= status < 600 else 403
            return web.json_response({"message": _REFUSALS.get(refused, "Refused")}, status=refused)
        try:
            await socket.prepare(request)
        except (ConnectionError, RuntimeError):
            await self._disconnect(facts, WSCloseCode.ABNORMAL_CLOSURE, "Connection closed abnormally")
            raise
        connection = LocalConnection(facts, socket)
        self._registry.add(connection)
        try:
            await self._receive(connection)
        finally:
            self._registry.remove(facts.connection_id)
            code, reason = _disconnect_reason(connection)
            await asyncio.shield(self._disconnect(facts, code, reason))
        return socket

    def _facts(self, request: web.Request) -> ConnectionFacts:
        return ConnectionFacts(
            connection_id=apigw_id(),
            connected_at=now_ms(),
            domain_name=self._domain_name,
            source_ip=request.remote or "127.0.0.1",
            user_agent=request.headers.get("User-Agent", ""),
            headers=header_pairs(request.headers),
            query=header_pairs(request.query),
        )

    async def _receive(self, connection: LocalConnection) -> None:
        async for frame in connection.socket:
            if frame.type == WSMsgType.TEXT:
                data: str | bytes = frame.data
            elif frame.type == WSMsgType.BINARY:
                data = frame.data
            else:  # ERROR (e.g. a message over the limit: aiohttp closes with 1009)
                break
            connection.touch()
            self._invoker.invoke_soon("$default", message_event(connection.facts, data))

    async def _disconnect(self, facts: ConnectionFacts, code: int, reason: str) -> None:
        status = await self._invoker.invoke("$disconnect", disconnect_event(facts, code, reason))
        if not 200 <= status < 300:
            log.warning("$disconnect answered %s for %s", status, facts.connection_id)


def _disconnect_reason(connection: LocalConnection) -> tuple[int, str]:
    if connection.closed_by_api:
        return WSCloseCode.OK, "Connection closed by the API"
    code = connection.socket.close_code
    if not code:
        return NO_STATUS, "Client-side close frame status not set"
    return code, CLOSE_REASONS.get(code, "Client closed the connection")
