"""Pushes a reply to the client as it is generated, coalescing small deltas so that a reply of N
tokens costs far fewer than N pushes: the first delta leaves at once (time to first chunk), later
ones when 200 characters or 100 ms have gathered, whichever comes first."""

from __future__ import annotations

from application.errors import ConnectionGone, Unavailable
from application.frames import chunk_frame
from application.ports import Clock, Notifier

# API Gateway refuses frames over 128 KB; keep every chunk's delta far below, in characters that
# may each take 4 bytes of UTF-8 and 6 of JSON escaping.
MAX_DELTA_CHARS = 16_000


class ChunkStream:
    def __init__(
        self,
        notifier: Notifier,
        clock: Clock,
        connection_id: str,
        response_id: str,
        flush_chars: int = 200,
        flush_seconds: float = 0.1,
    ) -> None:
        self._notifier = notifier
        self._clock = clock
        self._connection_id = connection_id
        self._response_id = response_id
        self._flush_chars = flush_chars
        self._flush_seconds = flush_seconds
        self._buffer: list[str] = []
        self._buffered = 0
        self._last_push: float | None = None
        self.index = 0
        self.pushes = 0
        self.gone = False
        self.stalled = False
        self.text_parts: list[str] = []

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    def add(self, delta: str) -> None:
        if not delta:
            return
        self.text_parts.append(delta)
        if self.silenced:
            return  # the client left, or pushes fail: keep the text for the store, push nothing more
        self._buffer.append(delta)
        self._buffered += len(delta)
        now = self._clock.monotonic()
        if (
            self._last_push is None
            or self._buffered >= self._flush_chars
            or now - self._last_push >= self._flush_seconds
        ):
            self.flush()

    @property
    def silenced(self) -> bool:
        return self.gone or self.stalled

    def flush(self) -> None:
        if self.silenced or not self._buffer:
            return
        pending = "".join(self._buffer)
        self._buffer.clear()
        self._buffered = 0
        for start in range(0, len(pending), MAX_DELTA_CHARS):
            self._push(pending[start : start + MAX_DELTA_CHARS])
            if self.silenced:
                return
        self._last_push = self._clock.monotonic()

    def _push(self, delta: str) -> None:
        try:
            self._notifier.push(self._connection_id, chunk_frame(self._response_id, self.index, delta))
        except ConnectionGone:
            self.gone = True
            return
        except Unavailable:
            # The Management API is failing after its retries: the reply is still worth finishing
            # and storing (the client sees it on resume), so stop pushing rather than give up.
            self.stalled = True
            return
        self.index += 1
        self.pushes += 1
