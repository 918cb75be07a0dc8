"""A notifier that keeps every frame in memory, and can play a client that leaves after N frames."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

from application.errors import ConnectionGone
from application.ports import Frame


class RecordingNotifier:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.frames: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.gone: set[str] = set()
        self.closed: set[str] = set()
        self.gone_after: dict[str, int] = {}  # connection -> pushes it accepts before it goes away
        self.pushes = 0

    def push(self, connection_id: str, frame: Frame) -> None:
        with self._lock:
            budget = self.gone_after.get(connection_id)
            if budget is not None:
                if budget <= 0:
                    self.gone.add(connection_id)
                self.gone_after[connection_id] = budget - 1
            if connection_id in self.gone:
                raise ConnectionGone(connection_id)
            self.frames[connection_id].append(dict(frame))
            self.pushes += 1

    def of(self, connection_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [f for f in self.frames[connection_id] if kind is None or f.get("type") == kind]

    def clear(self) -> None:
        with self._lock:
            self.frames.clear()
            self.pushes = 0

    def close(self, connection_id: str) -> None:
        with self._lock:
            self.closed.add(connection_id)
            self.gone.add(connection_id)
