"""The retry queue of memory mode: SQS's part, played in-process for the in-process turn writer.
It keeps encoded messages, so the wire format is exercised in every mode."""

from __future__ import annotations

import threading
from collections import deque

from adapters.retry_message import decode_pending_write, encode_pending_write
from application.ports import PendingWrite


class InMemoryRetryQueue:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: deque[tuple[str, int]] = deque()  # (body, delivery attempt)

    def enqueue(self, write: PendingWrite) -> None:
        body = encode_pending_write(write)
        with self._lock:
            self._messages.append((body, 1))

    def take(self) -> list[tuple[PendingWrite, int]]:
        """Every waiting write with the attempt it is on; the queue is empty afterwards."""
        with self._lock:
            taken = list(self._messages)
            self._messages.clear()
        return [(decode_pending_write(body), attempt) for body, attempt in taken]

    def put_back(self, write: PendingWrite, attempt: int) -> None:
        with self._lock:
            self._messages.append((encode_pending_write(write), attempt))

    @property
    def bodies(self) -> list[str]:
        with self._lock:
            return [body for body, _ in self._messages]

    def __len__(self) -> int:
        with self._lock:
            return len(self._messages)
