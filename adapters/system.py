"""The real clock and id source."""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class RandomIds:
    """Session ids are random UUIDs (122 random bits: unguessable). Turn ids are nanoseconds since
    the epoch, strictly increasing within the process even when the clock stands still, then 32
    random bits so that two processes writing in the same nanosecond never collide."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def session_id(self) -> str:
        return str(uuid.uuid4())

    def response_id(self) -> str:
        return str(uuid.uuid4())

    def turn_id(self, now: datetime) -> str:
        nanos = (now - EPOCH) // timedelta(microseconds=1) * 1000
        with self._lock:
            nanos = max(nanos, self._last + 1)
            self._last = nanos
        return f"{nanos:019d}-{secrets.token_hex(4)}"
