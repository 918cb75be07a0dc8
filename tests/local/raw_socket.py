"""A WebSocket client at the byte level, for what ordinary clients hide: frames of a chosen size,
fragmented messages, and how the server cut what it sent into frames (RFC 6455 §5.2)."""

from __future__ import annotations

import asyncio
import base64
import os
import struct

from attrs import frozen

WAIT = 15.0


@frozen
class Frame:
    fin: bool
    opcode: int
    payload: bytes


class RawSocket:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int, path: str, *headers: str) -> RawSocket:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *headers,
        ]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        status = await asyncio.wait_for(reader.readline(), WAIT)
        if not status.startswith(b"HTTP/1.1 101"):
            raise AssertionError(f"handshake refused: {status!r}")
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        return cls(reader, writer)

    def send_frame(self, payload: bytes, opcode: int = 0x1, fin: bool = True) -> None:
        """One masked frame, as a client must send it."""
        first = (0x80 if fin else 0) | opcode
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", first, 0x80 | n)
        elif n < 65536:
            header = struct.pack("!BBH", first, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", first, 0x80 | 127, n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(header + mask + masked)

    def send_message(self, payload: bytes, frame_bytes: int) -> None:
        """A text message in fragments of ``frame_bytes``."""
        pieces = [payload[i : i + frame_bytes] for i in range(0, len(payload), frame_bytes)]
        for n, piece in enumerate(pieces):
            self.send_frame(piece, opcode=0x1 if n == 0 else 0x0, fin=n == len(pieces) - 1)

    async def frame(self) -> Frame:
        head = await asyncio.wait_for(self.reader.readexactly(2), WAIT)
        length = head[1] & 0x7F
        if length == 126:
            length = struct.unpack("!H", await self.reader.readexactly(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", await self.reader.readexactly(8))[0]
        payload = await asyncio.wait_for(self.reader.readexactly(length), WAIT)
        return Frame(bool(head[0] & 0x80), head[0] & 0x0F, payload)

    async def message(self) -> list[Frame]:
        """The frames of the next data message (or the close frame)."""
        frames = [await self.frame()]
        while not frames[-1].fin:
            frames.append(await self.frame())
        return frames

    async def close_code(self) -> int:
        """Skip to the server's close frame; its status code."""
        while True:
            frame = await self.frame()
            if frame.opcode == 0x8:
                return int(struct.unpack("!H", frame.payload[:2])[0])

    def close(self) -> None:
        self.writer.transport.abort()
