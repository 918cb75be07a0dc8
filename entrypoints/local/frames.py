"""WebSocket frames at the byte level, where aiohttp does not look: API Gateway limits each frame
to 32 KB and each message to 128 KB, both exactly, and closes with 1009 past either; and it sends a
message over 32 KB to the client as several frames of at most 32 KB.

``FrameGuard`` reads the frame headers of what the client sends before aiohttp parses it; ``write_fragmented``
sends a message in fragments. RFC 6455 §5.2 gives the layout both rely on."""

from __future__ import annotations

import asyncio
import struct
from typing import Any

from aiohttp import WSCloseCode
from aiohttp.http_websocket import WebSocketError

from entrypoints.local.limits import GatewayLimits

OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
FIN = 0x80


class FrameGuard:
    """Stands in front of aiohttp's WebSocket parser: passes every byte on, and fails the stream
    with 1009 (``MESSAGE_TOO_BIG``) at the first frame or message over the limits."""

    def __init__(self, parser: Any, queue: Any, limits: GatewayLimits) -> None:
        self._parser = parser
        self._queue = queue
        self._limits = limits
        self._header = bytearray()  # the header read so far
        self._payload_left = 0  # bytes of the current frame's payload still to come
        self._message_bytes = 0  # of the data message being received, across its fragments
        self._failed = False

    def feed_eof(self) -> Any:
        return self._parser.feed_eof()

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        if not self._failed:
            problem = self._scan(memoryview(data))
            if problem:
                self._failed = True
                self._queue.set_exception(WebSocketError(WSCloseCode.MESSAGE_TOO_BIG, problem))
                return True, b""
        result: tuple[bool, bytes] = self._parser.feed_data(data)
        return result

    def _scan(self, data: memoryview) -> str | None:
        at = 0
        while at < len(data):
            if self._payload_left:
                step = min(self._payload_left, len(data) - at)
                self._payload_left -= step
                at += step
                continue
            self._header.append(data[at])
            at += 1
            parsed = _parse_header(bytes(self._header))
            if parsed is None:
                continue
            self._header.clear()
            fin, opcode, length = parsed
            self._payload_left = length
            if opcode not in (OP_CONTINUATION, OP_TEXT, OP_BINARY):
                continue  # control frames: at most 125 bytes by the RFC, aiohttp checks them
            if length > self._limits.frame_bytes:
                return f"frame of {length} bytes; API Gateway's limit is {self._limits.frame_bytes}"
            self._message_bytes += length
            if self._message_bytes > self._limits.message_bytes:
                return f"message over {self._limits.message_bytes} bytes, API Gateway's limit"
            if fin:
                self._message_bytes = 0
        return None


def _parse_header(header: bytes) -> tuple[bool, int, int] | None:
    """(fin, opcode, payload length) once ``header`` holds a whole frame header, else None."""
    if len(header) < 2:
        return None
    masked = bool(header[1] & 0x80)
    length = header[1] & 0x7F
    size = 2 + (2 if length == 126 else 8 if length == 127 else 0) + (4 if masked else 0)
    if len(header) < size:
        return None
    if length == 126:
        length = struct.unpack("!H", header[2:4])[0]
    elif length == 127:
        length = struct.unpack("!Q", header[2:10])[0]
    return bool(header[0] & FIN), header[0] & 0x0F, length


def frame_header(fin: bool, opcode: int, length: int) -> bytes:
    """A server's frame header (servers never mask)."""
    first = (FIN if fin else 0) | opcode
    if length < 126:
        return struct.pack("!BB", first, length)
    if length < 65536:
        return struct.pack("!BBH", first, 126, length)
    return struct.pack("!BBQ", first, 127, length)


def fragments(data: bytes, opcode: int, frame_bytes: int) -> bytes:
    """``data`` as one message in frames of at most ``frame_bytes``: the first carries the opcode,
    the others are continuations, the last has FIN."""
    pieces = [data[i : i + frame_bytes] for i in range(0, len(data), frame_bytes)] or [b""]
    out = bytearray()
    for n, piece in enumerate(pieces):
        out += frame_header(n == len(pieces) - 1, opcode if n == 0 else OP_CONTINUATION, len(piece))
        out += piece
    return bytes(out)


def write_fragmented(transport: asyncio.BaseTransport | None, data: bytes, opcode: int, size: int) -> None:
    """Write one message in fragments in one call on the event loop's thread: no other frame can
    come between two of its fragments."""
    if transport is None or transport.is_closing() or not isinstance(transport, asyncio.WriteTransport):
        raise ConnectionResetError("the connection is closing")
    transport.write(fragments(data, opcode, size))
