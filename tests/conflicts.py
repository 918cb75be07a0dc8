"""Fault injection for all-or-nothing writes: before a transition is written, plant an item that
makes exactly one of its writes fail its condition, so that the store itself must refuse the rest."""

from __future__ import annotations

from typing import Any

from attrs import evolve

from domain.model import Handoff, Session, SessionStatus, Turn

WRITES = ("session_state", "handoff_record", "announcement_turn")


class ConflictingTransitions:
    def __init__(self, inner: Any, write: str, plant_handoff: Any = None) -> None:
        if write not in WRITES:
            raise ValueError(write)
        self.inner = inner
        self.write = write
        self._plant_handoff = plant_handoff or (
            _plant_in_memory if hasattr(inner, "_lock") else _plant_in_table
        )
        self.planted_turns: list[str] = []
        self.planted_handoffs: list[Handoff] = []
        self.moves = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def record_transition(
        self, current: Session, updated: Session, announcement: Turn, handoff: Handoff | None = None
    ) -> None:
        if self.write == "session_state":
            # The customer resumed the session from another connection a moment earlier, again at
            # every attempt: a use case that reads the session again and retries never gets through.
            self.moves += 1
            self.inner.replace(current, evolve(current, connection_id=f"conn-elsewhere-{self.moves}"))
        elif self.write == "announcement_turn":
            self.inner.add_turn(current.session_id, announcement, SessionStatus.ACTIVE, current.expires_at)
            self.planted_turns.append(announcement.turn_id)
        elif handoff is not None:
            self._plant_handoff(self.inner, handoff)
            self.planted_handoffs.append(handoff)
        self.inner.record_transition(current, updated, announcement, handoff)


def _plant_in_memory(repo: Any, handoff: Handoff) -> None:
    with repo._lock:
        repo._handoffs[handoff.session_id].append(handoff)


def _plant_in_table(repo: Any, handoff: Handoff) -> None:
    from adapters.dynamodb.converter import handoff_item
    from adapters.dynamodb.layout import handoff_key, key

    item = {**handoff_item(handoff, ttl=0), **key(handoff.session_id, handoff_key(handoff.handoff_id))}
    repo.client.put_item(TableName=repo.table_name, Item=item)
