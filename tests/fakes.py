"""Test doubles that are not adapters of the product: a clock the test moves by hand."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

START = datetime(2026, 11, 27, 9, 0, 0, tzinfo=UTC)


class ManualClock:
    """Stands still unless told to move: two messages 'in the same millisecond' are easy to make."""

    def __init__(self, start: datetime = START) -> None:
        self._now = start
        self._mono = 1000.0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            self._mono += seconds
