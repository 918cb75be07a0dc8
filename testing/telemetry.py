"""Telemetry that keeps every value, for assertions on metrics."""

from __future__ import annotations

import threading
from collections import defaultdict


class RecordingTelemetry:
    """Keeps every value, and the dimensions of each count."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.values: dict[str, list[float]] = defaultdict(list)
        self.dimensions: dict[str, list[dict[str, str]]] = defaultdict(list)

    def count(self, name: str, value: float = 1, **dimensions: str) -> None:
        with self._lock:
            self.values[name].append(value)
            self.dimensions[name].append(dimensions)

    def milliseconds(self, name: str, value: float) -> None:
        with self._lock:
            self.values[name].append(value)

    def percent(self, name: str, value: float) -> None:
        with self._lock:
            self.values[name].append(value)

    def total(self, name: str) -> float:
        with self._lock:
            return sum(self.values.get(name, []))
