"""``/ws``: the WebSocket side of API Gateway. The handshake waits for ``$connect`` (a non-2xx answer
refuses it, before the upgrade; a subprotocol it selects is what the client gets); each text frame
becomes a ``$default`` invocation, run concurrently as API Gateway does; the close becomes
``$disconnect``. Nothing a handler returns reaches the client: frames reach it only through the
Management API, except API Gateway's own error frames (a handler that raised, or timed out).
``tests/local/test_gateway_parity.py`` holds each behaviour against API Gateway's documentation."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import re
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web
from attrs import evolve

from entrypoints.credentials import SUBPROTOCOL_HEADER
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
from entrypoints.local.frames import FrameGuard
from entrypoints.local.lambda_runtime import Invocation, LambdaInvoker
from entrypoints.local.limits import GatewayLimits

log = logging.getLogger(__name__)

CLOSE_REASONS: dict[int, str] = {
    WSCloseCode.OK: "Normal closure",
    WSCloseCode.GOING_AWAY: "Going away",
    WSCloseCode.ABNORMAL_CLOSURE: "Connection closed abnormally",
    WSCloseCode.MESSAGE_TOO_BIG: "Message too big",
    WSCloseCode.UNSUPPORTED_DATA: "Binary frames are not supported",
}
_REFUSALS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    500: "Internal server error",
    502: "Internal server error",
    504: "Endpoint request timed out",
}
NO_STATUS = 1005  # RFC 6455: a close frame without a status code
AGENT_ID = re.compile(r"^[A-Za-z0-9._:@=+\-]{1,64}\Z")


class GatewaySocket(web.WebSocketResponse):
    """aiohttp's WebSocket with API Gateway's frame and message limits checked on the raw bytes."""

    def __init__(self, limits: GatewayLimits, protocols: tuple[str, ...] = ()) -> None:
        # aiohttp's own check refuses a message of exactly its limit: one byte more, so that the
        # guard's exact limit is the one that applies. No compression: API Gateway offers none.
        super().__init__(max_msg_size=limits.message_bytes + 1, compress=False, protocols=protocols)
        self._limits = limits

    def _post_start(self, request: Any, protocol: Any, writer: Any) -> None:
        super()._post_start(request, protocol, writer)
        request.protocol._payload_parser = FrameGuard(self._parser, self._reader, self._limits)


class WebSocketGateway:
    def __init__(
        self,
        registry: ConnectionRegistry,
        invoker: LambdaInvoker,
        domain_name: str,
        authorizer: LocalAuthorizer | None = None,
        limits: GatewayLimits | None = None,
        auth_mode: str = "guest",
    ) -> None:
        self._registry = registry
        self._invoker = invoker
        self._domain_name = domain_name
        self._authorizer = authorizer
        self._limits = limits or GatewayLimits()
        self._auth_mode = auth_mode

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return web.json_response(
                {"message": "Upgrade Required"}, status=426, headers={"Upgrade": "websocket"}
            )
        facts = self._facts(request)
        event = connect_event(facts)
        refusal = await self._authorizer.admit(event) if self._authorizer else None
        if refusal is not None:
            return refusal
        facts = evolve(facts, authorizer=event["requestContext"].get("authorizer"))
        connected = await self._invoker.invoke("$connect", event)
        if not connected.ok:
            return _refusal(connected)
        socket = _socket_for(connected, request, self._limits)
        try:
            await socket.prepare(request)
        except (ConnectionError, RuntimeError):
            await self._disconnect(facts, WSCloseCode.ABNORMAL_CLOSURE, "Connection closed abnormally")
            raise
        connection = LocalConnection(
            facts, socket, transport=request.transport, frame_bytes=self._limits.frame_bytes
        )
        self._registry.add(connection)
        log.info("connected %s", facts.connection_id)
        watchdog = asyncio.ensure_future(self._expire(connection))
        try:
            await self._receive(connection)
        finally:
            watchdog.cancel()
            self._registry.remove(facts.connection_id)
            code, reason = _disconnect_reason(connection)
            log.info("disconnected %s (%s %s)", facts.connection_id, code, reason)
            await asyncio.shield(self._disconnect(facts, code, reason))
        return socket

    def _facts(self, request: web.Request) -> ConnectionFacts:
        source_ip = request.remote or "127.0.0.1"
        return ConnectionFacts(
            connection_id=apigw_id(),
            connected_at=now_ms(),
            domain_name=self._domain_name,
            source_ip=source_ip,
            user_agent=request.headers.get("User-Agent", ""),
            headers=header_pairs(request.headers),
            query=header_pairs(request.query),
            authorizer=local_agent(request.query.get("agent_id"), source_ip, self._auth_mode),
        )

    async def _receive(self, connection: LocalConnection) -> None:
        async for frame in connection.socket:
            if frame.type == WSMsgType.BINARY:
                # "API Gateway WebSocket APIs don't currently support binary frames in incoming
                # message payloads": the client is disconnected with 1003.
                await _close(connection, WSCloseCode.UNSUPPORTED_DATA)
                break
            if frame.type != WSMsgType.TEXT:  # ERROR: over a limit (closed with 1009), or broken
                break
            connection.touch()
            event = message_event(connection.facts, frame.data)
            task = asyncio.ensure_future(self._default(connection, event))
            connection.invocations.add(task)
            task.add_done_callback(connection.invocations.discard)

    async def _default(self, connection: LocalConnection, event: dict[str, Any]) -> None:
        """One frame's ``$default``. API Gateway itself tells the client when the integration
        failed: the same JSON frame it sends in AWS."""
        outcome = await self._invoker.invoke("$default", event)
        if outcome.raised or outcome.timed_out:
            message = "Endpoint request timed out" if outcome.timed_out else "Internal server error"
            frame = {
                "message": message,
                "connectionId": connection.connection_id,
                "requestId": event["requestContext"]["requestId"],
            }
            try:
                await connection.send(json.dumps(frame).encode())
            except Exception:  # the client left meanwhile: nobody to tell
                log.debug("could not send the error frame to %s", connection.connection_id)

    async def _expire(self, connection: LocalConnection) -> None:
        """Close the connection, as API Gateway does, once idle too long or open too long."""
        limits = self._limits
        ends_at = connection.facts.connected_at + limits.max_lifetime * 1000
        while True:
            idle_ends_at = connection.last_active_at + limits.idle_timeout * 1000
            wake_at = min(ends_at, idle_ends_at)
            delay = (wake_at - now_ms()) / 1000
            if delay > 0:
                await asyncio.sleep(delay)
                continue
            why = "lifetime" if wake_at == ends_at else "idle"
            log.info("closing %s: %s limit reached", connection.connection_id, why)
            await _close(connection, WSCloseCode.GOING_AWAY)
            return

    async def _disconnect(self, facts: ConnectionFacts, code: int, reason: str) -> None:
        outcome = await self._invoker.invoke("$disconnect", disconnect_event(facts, code, reason))
        if not outcome.ok:
            log.warning("$disconnect answered %s for %s", outcome.status, facts.connection_id)


def _refusal(outcome: Invocation) -> web.Response:
    """API Gateway refuses the handshake with ``$connect``'s status; 502 when it raised, 504 when it
    did not answer in time. (Its body never reaches the client.)"""
    status = outcome.status if 400 <= outcome.status < 600 else 403
    log.info("handshake refused: $connect answered %s", status)
    return web.json_response({"message": _REFUSALS.get(status, "Refused")}, status=status)


def _socket_for(outcome: Invocation, request: web.Request, limits: GatewayLimits) -> GatewaySocket:
    """The subprotocol is ``$connect``'s choice, passed to the client as it is (API Gateway neither
    chooses one nor checks it against what the client offered)."""
    selected = next((v for k, v in outcome.headers.items() if k.lower() == SUBPROTOCOL_HEADER.lower()), None)
    socket = GatewaySocket(limits, protocols=(selected,) if selected else ())
    offered = [p.strip() for p in request.headers.get(SUBPROTOCOL_HEADER, "").split(",") if p.strip()]
    if selected and selected not in offered:
        socket.headers[SUBPROTOCOL_HEADER] = selected
    return socket


async def _close(connection: LocalConnection, code: int) -> None:
    connection.closed_by_gateway = (code, CLOSE_REASONS[code])
    await connection.close(code, CLOSE_REASONS[code].encode())


def local_agent(agent_id: str | None, source_ip: str, auth_mode: str) -> dict[str, Any] | None:
    """Without authentication (``AUTH_MODE=none``: development only) there is no credential that
    could say "agent", so the gateway says it in the authorizer's place, in the authorizer's words,
    for ``?agent_id=NAME`` from this machine only. Under ``guest`` or ``jwt`` only a token does."""
    if not agent_id or auth_mode != "none" or not is_loopback_peer(source_ip):
        return None
    if not AGENT_ID.match(agent_id):
        return None
    return {"principalId": agent_id, "customer_id": agent_id, "role": "agent"}


def is_loopback_peer(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _disconnect_reason(connection: LocalConnection) -> tuple[int, str]:
    if connection.closed_by_api:
        return WSCloseCode.OK, "Connection closed by the API"
    if connection.closed_by_gateway:
        return connection.closed_by_gateway
    code = connection.socket.close_code
    if not code:
        return NO_STATUS, "Client-side close frame status not set"
    return code, CLOSE_REASONS.get(code, "Client closed the connection")
