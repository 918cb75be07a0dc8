"""Test doubles that are not adapters of the product: a clock the test moves by hand."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from application.ports import PendingWrite

START = datetime(2026, 11, 27, 9, 0, 0, tzinfo=UTC)


class ManualClock:
    """Stands still unless told to move: two messages 'in the same millisecond' are easy to make.
    With ``tick_seconds`` set, every reading of ``now`` first moves it that far (distinct times)."""

    def __init__(self, start: datetime = START, tick_seconds: float = 0.0) -> None:
        self._now = start
        self._mono = 1000.0
        self._lock = threading.Lock()
        self.tick_seconds = tick_seconds

    def now(self) -> datetime:
        if self.tick_seconds:
            self.advance(self.tick_seconds)
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            self._mono += seconds


class FlakyRepository:
    """Wraps a repository; ``fail(method, times, error)`` makes its next calls raise."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self._failures: dict[str, list[BaseException]] = {}
        self.calls: dict[str, int] = {}

    def fail(self, method: str, times: int = 1, error: BaseException | None = None) -> None:
        from application.errors import Unavailable

        self._failures.setdefault(method, []).extend([error or Unavailable(f"injected {method}")] * times)

    def __getattr__(self, name: str) -> object:
        target = getattr(self.inner, name)
        if not callable(target):
            return target

        def call(*args: object, **kwargs: object) -> object:
            self.calls[name] = self.calls.get(name, 0) + 1
            pending = self._failures.get(name)
            if pending:
                raise pending.pop(0)
            return target(*args, **kwargs)

        return call


class ListRetryQueue:
    def __init__(self) -> None:
        self.items: list[PendingWrite] = []

    def enqueue(self, write: PendingWrite) -> None:
        self.items.append(write)
