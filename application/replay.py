"""The turn writer's job: replay a write that failed on the message path. Safe to repeat."""

from __future__ import annotations

from application.events import PendingWrite
from application.ports import MessageLog


class ReplayWrite:
    """``PendingWrite``: store the write the message path could not."""

    def __init__(self, repo: MessageLog) -> None:
        self._repo = repo

    def __call__(self, write: PendingWrite) -> bool:
        """True when this call stored it, False when it was already there."""
        if write.kind != "complete_exchange":
            raise ValueError(f"unknown pending write kind {write.kind!r}")
        return self._repo.complete_exchange(
            write.session_id, write.message_id, write.reply, write.expires_at, write.charge
        )
