"""Pushes a reply to the client as it is generated, coalescing small deltas so that a reply of N
tokens costs far fewer than N pushes: the first delta leaves at once (time to first chunk), later
ones when 200 characters or 100 ms have gathered, whichever comes first."""

from __future__ import annotations

from application.errors import ConnectionGone, Unavailable
from application.frame_size import MAX_FRAME_BYTES, frame_bytes, split_text
from application.frames import chunk_frame
from application.ports import Clock, Notifier

_WIDEST_INDEX = 10**9  # an index with more digits than any reply reaches


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
        # Each chunk frame within API Gateway's 32 KB, whatever the text's encoding and escapes.
        room = MAX_FRAME_BYTES - frame_bytes(chunk_frame(self._response_id, _WIDEST_INDEX, ""))
        for piece in split_text(pending, room):
            self._push(piece)
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
