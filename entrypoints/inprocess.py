"""In memory mode the asynchronous half runs inside the process: the in-memory store's change feed
plays DynamoDB Streams (summaries, expiry cleanup) and the in-memory retry queue plays SQS (the turn
writer). Both only carry events to the one event table (``message_bus``), as the Lambda functions'
transports do."""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Any

from adapters.memory_retry_queue import InMemoryRetryQueue
from application.events import ChangeEvent, PendingWrite
from application.ports import Notifier
from application.replay import Replayed
from entrypoints.container import Container, message_bus
from entrypoints.worker_backoff import Backoff

log = logging.getLogger(__name__)

# As SQS's maxReceiveCount: a change or write that keeps failing is set aside, not retried forever.
MAX_ATTEMPTS = 5


class InProcessWorkers:
    def __init__(self, container: Container, notifier: Notifier) -> None:
        self._container = container
        self._bus = message_bus(container, notifier)
        self._repo = container.adapters.repository()
        if not hasattr(self._repo, "listeners"):
            raise TypeError("in-process workers need the in-memory store's change feed")
        self._changes: deque[tuple[ChangeEvent, int]] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.dead_letters: list[tuple[Any, str]] = []
        self._repo.listeners.append(self._enqueue)

    def _enqueue(self, event: ChangeEvent) -> None:
        self._changes.append((event, 1))
        self._wake.set()

    def drain(self) -> int:
        """Deliver everything pending (changes, then queued writes); the number of items handled."""
        handled = 0
        while self._changes:
            event, attempt = self._changes.popleft()
            self._deliver(event, attempt, lambda again, n: self._changes.append((again, n)))
            handled += 1
        queue = self._container.adapters.retry_queue()
        if isinstance(queue, InMemoryRetryQueue):
            for write, attempt in queue.take():
                self._deliver(write, attempt, queue.put_back)
                handled += 1
        return handled

    def _deliver(self, event: Any, attempt: int, retry: Any) -> None:
        try:
            self._bus.handle(event)
        except Exception as error:
            log.warning("in-process worker failed (attempt %d)", attempt, exc_info=True)
            if attempt >= MAX_ATTEMPTS:
                self.dead_letters.append((event, repr(error)))
            else:
                retry(event, attempt + 1)

    def redrive(self) -> dict[str, list[str]]:
        """Replay what was set aside, as ``manga-assist redrive`` does for the SQS dead-letter queue:
        what got stored, what was already there, what still fails (and stays set aside)."""
        report: dict[str, list[str]] = {"stored": [], "already_stored": [], "session_gone": [], "failed": []}
        pending, self.dead_letters = self.dead_letters, []
        for item, _ in pending:
            if isinstance(item, PendingWrite):
                label = f"{item.session_id}/{item.message_id}"
                try:
                    (outcome,) = self._bus.handle(item)
                    assert isinstance(outcome, Replayed)
                    report[outcome.value].append(label)
                except Exception as error:
                    report["failed"].append(label)
                    self.dead_letters.append((item, repr(error)))
            else:  # a change event: run it again
                self._changes.append((item, 1))
        self.drain()
        return report

    def sweep(self) -> int:
        """Play the TTL service: remove sessions idle past their expiry (the feed then cleans up)."""
        return len(self._repo.expire_due(self._container.adapters.clock().now()))

    def start(self, interval: float = 0.2, sweep_every: float = 30.0) -> None:
        def run() -> None:
            since_sweep = 0.0
            backoff = Backoff("in-process workers", log, interval)
            while not self._stop.is_set():
                self._wake.wait(backoff.wait)
                self._wake.clear()
                since_sweep += backoff.wait
                try:
                    if since_sweep >= sweep_every:
                        since_sweep = 0.0
                        self.sweep()
                    self.drain()
                except Exception as error:
                    backoff.failed(error)
                    continue
                backoff.succeeded()

        self._thread = threading.Thread(target=run, name="in-process-workers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
