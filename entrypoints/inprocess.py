"""In memory mode the asynchronous half runs inside the process: the in-memory store's change feed
plays DynamoDB Streams (summaries, expiry cleanup) and the in-memory retry queue plays SQS (the turn
writer). The same use cases run as in the Lambda functions; only the transport differs."""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Any

from application.events import ChangeEvent, SessionExpired, TurnsCounted
from application.ports import Notifier, PendingWrite
from application.summaries import RollSummaryCommand, summary_due
from domain.errors import SessionNotFound
from entrypoints.container import Container

log = logging.getLogger(__name__)

# As SQS's maxReceiveCount: a change or write that keeps failing is set aside, not retried forever.
MAX_ATTEMPTS = 5


class InProcessWorkers:
    def __init__(self, container: Container, notifier: Notifier) -> None:
        self._container = container
        self._notifier = notifier
        self._repo = container.adapters.repository()
        if not hasattr(self._repo, "listeners"):
            raise TypeError("in-process workers need the in-memory store's change feed")
        self._events: deque[tuple[ChangeEvent, int]] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.dead_letters: list[tuple[Any, str]] = []
        self._repo.listeners.append(self._enqueue)

    def _enqueue(self, event: ChangeEvent) -> None:
        self._events.append((event, 1))
        self._wake.set()

    def drain(self) -> int:
        """Process everything pending (changes, then queued writes); the number of items handled."""
        handled = 0
        while self._events:
            event, attempt = self._events.popleft()
            try:
                self._handle(event)
            except Exception as error:
                log.warning("in-process worker failed (attempt %d)", attempt, exc_info=True)
                if attempt >= MAX_ATTEMPTS:
                    self.dead_letters.append((event, repr(error)))
                else:
                    self._events.append((event, attempt + 1))
            handled += 1
        return handled + self._replay_writes()

    def _handle(self, event: ChangeEvent) -> None:
        use_cases = self._container.use_cases
        if isinstance(event, TurnsCounted):
            if summary_due(event.before, event.after, self._container.config.summary_every_turns()):
                use_cases.roll_summary()(RollSummaryCommand(event.session_id, event.after))
        elif isinstance(event, SessionExpired):
            use_cases.expire_session(notifier=self._notifier)(event)

    def _replay_writes(self) -> int:
        queue: Any = self._container.adapters.retry_queue()
        if queue is None or not hasattr(queue, "take"):
            return 0
        replay = self._container.use_cases.replay_write()
        handled = 0
        for write, attempt in queue.take():
            try:
                replay(write)
            except SessionNotFound:
                log.warning("pending write for a session that no longer exists; dropped")
            except Exception as error:
                log.warning("replaying a queued write failed (attempt %d)", attempt, exc_info=True)
                if attempt >= MAX_ATTEMPTS:
                    self.dead_letters.append((write, repr(error)))
                else:
                    queue.put_back(write, attempt + 1)
            handled += 1
        return handled

    def redrive(self) -> dict[str, list[str]]:
        """Replay what was set aside, as ``manga-assist redrive`` does for the SQS dead-letter queue:
        what got stored, what was already there, what still fails (and stays set aside)."""
        report: dict[str, list[str]] = {"stored": [], "already_stored": [], "failed": []}
        pending, self.dead_letters = self.dead_letters, []
        replay = self._container.use_cases.replay_write()
        for item, _ in pending:
            if isinstance(item, PendingWrite):
                label = f"{item.session_id}/{item.message_id}"
                try:
                    report["stored" if replay(item) else "already_stored"].append(label)
                except Exception as error:
                    report["failed"].append(label)
                    self.dead_letters.append((item, repr(error)))
            else:  # a change event: run it again
                self._events.append((item, 1))
        self.drain()
        return report

    def sweep(self) -> int:
        """Play the TTL service: remove sessions idle past their expiry (the feed then cleans up)."""
        return len(self._repo.expire_due(self._container.adapters.clock().now()))

    def start(self, interval: float = 0.2, sweep_every: float = 30.0) -> None:
        def run() -> None:
            since_sweep = 0.0
            while not self._stop.is_set():
                self._wake.wait(interval)
                self._wake.clear()
                since_sweep += interval
                if since_sweep >= sweep_every:
                    since_sweep = 0.0
                    self.sweep()
                try:
                    self.drain()
                except Exception:
                    log.exception("in-process workers")

        self._thread = threading.Thread(target=run, name="in-process-workers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
