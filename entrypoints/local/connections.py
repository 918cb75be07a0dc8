"""The open WebSocket connections, by API Gateway connection id: what the Management API reaches."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiohttp import WSCloseCode, web
from attrs import define, field

from entrypoints.local.apigw_events import ConnectionFacts, now_ms
from entrypoints.local.frames import OP_BINARY, OP_TEXT, write_fragmented
from entrypoints.local.limits import GatewayLimits


class ConnectionGone(Exception):
    """The connection closed, or never existed: the Management API answers 410."""


@define
class LocalConnection:
    facts: ConnectionFacts
    socket: web.WebSocketResponse
    transport: asyncio.BaseTransport | None = None  # the raw connection, for fragmented messages
    frame_bytes: int = GatewayLimits().frame_bytes
    last_active_at: int = field(factory=now_ms)
    closed_by_api: bool = False
    closed_by_gateway: tuple[int, str] | None = None  # code and reason: idle, lifetime, binary frame
    invocations: set[asyncio.Future[None]] = field(factory=set)

    @property
    def connection_id(self) -> str:
        return self.facts.connection_id

    def touch(self) -> None:
        self.last_active_at = now_ms()

    async def send(self, data: bytes) -> None:
        """One message to the client: text when the bytes are UTF-8 (every frame of ours), else
        binary; over 32 KB, in several frames, as API Gateway sends it."""
        if self.socket.closed:
            raise ConnectionGone(self.connection_id)
        try:
            data.decode("utf-8")
            opcode = OP_TEXT
        except UnicodeDecodeError:
            opcode = OP_BINARY
        try:
            if len(data) > self.frame_bytes:
                write_fragmented(self.transport, data, opcode, self.frame_bytes)
            elif opcode == OP_TEXT:
                await self.socket.send_str(data.decode("utf-8"))
            else:
                await self.socket.send_bytes(data)
        except (ConnectionError, RuntimeError) as error:  # closing under our feet
            raise ConnectionGone(self.connection_id) from error
        self.touch()  # traffic either way keeps a connection from being idle

    def info(self) -> dict[str, object]:
        """``GetConnection``'s answer."""
        return {
            "connectedAt": _iso(self.facts.connected_at),
            "identity": {"sourceIp": self.facts.source_ip, "userAgent": self.facts.user_agent},
            "lastActiveAt": _iso(self.last_active_at),
        }

    async def close(self, code: int = WSCloseCode.OK, message: bytes = b"") -> None:
        await self.socket.close(code=code, message=message)


class ConnectionRegistry:
    """Only touched from the event loop's thread: no lock needed."""

    def __init__(self) -> None:
        self._open: dict[str, LocalConnection] = {}

    def add(self, connection: LocalConnection) -> None:
        self._open[connection.connection_id] = connection

    def get(self, connection_id: str) -> LocalConnection:
        found = self._open.get(connection_id)
        if found is None or found.socket.closed:
            raise ConnectionGone(connection_id)
        return found

    def remove(self, connection_id: str) -> LocalConnection | None:
        return self._open.pop(connection_id, None)

    def all(self) -> list[LocalConnection]:
        return list(self._open.values())

    def __len__(self) -> int:
        return len(self._open)


def _iso(epoch_ms: int) -> str:
    moment = datetime.fromtimestamp(epoch_ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
