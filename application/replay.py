"""The turn writer's job: replay a write that failed on the message path. Safe to repeat."""

from __future__ import annotations

import logging
from enum import Enum

from application import telemetry as metric
from application.events import PendingWrite
from application.ports import MessageLog, Telemetry
from application.telemetry import NoTelemetry
from domain.errors import SessionNotFound

log = logging.getLogger(__name__)


class Replayed(Enum):
    STORED = "stored"  # this call stored it
    ALREADY_STORED = "already_stored"  # a repeat: at-least-once delivery
    SESSION_GONE = "session_gone"  # the session expired and was cleaned up: nothing to store it in


class ReplayWrite:
    """``PendingWrite``: store the write the message path could not."""

    def __init__(self, repo: MessageLog, telemetry: Telemetry | None = None) -> None:
        self._repo = repo
        self._telemetry = telemetry or NoTelemetry()

    def __call__(self, write: PendingWrite) -> Replayed:
        if write.kind != "complete_exchange":
            raise ValueError(f"unknown pending write kind {write.kind!r}")
        try:
            stored = self._repo.complete_exchange(
                write.session_id, write.message_id, write.reply, write.expires_at, write.charge
            )
        except SessionNotFound:
            # Retrying until the dead-letter queue would only page someone: said, counted, let go.
            log.warning("pending write for a session that no longer exists; dropped")
            self._telemetry.count(metric.WRITES_FOR_GONE_SESSIONS)
            return Replayed.SESSION_GONE
        return Replayed.STORED if stored else Replayed.ALREADY_STORED
