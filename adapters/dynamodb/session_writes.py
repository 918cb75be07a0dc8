"""Writes that change a session's own state: open it, move it (resume, disconnect, handoff), and the
turns that do not come through the message path (a system announcement, an agent's reply)."""

from __future__ import annotations

from datetime import datetime

import attrs
from attrs import evolve

from adapters.dynamodb.converter import handoff_item, session_item, to_item, ttl_of, turn_item
from adapters.dynamodb.errors import Backoff
from adapters.dynamodb.expressions import Refresh, Update
from adapters.dynamodb.layout import CHILD_GRACE, META, QUEUE_ATTRIBUTE, handoff_key, reply_key, turn_key
from adapters.dynamodb.transactions import Cancelled, PartitionWriter
from application.errors import ConcurrentUpdate, Unavailable
from domain.errors import NotHandoffHolder, SessionNotFound, UnexpectedStatus
from domain.model import Handoff, Session, SessionStatus, Turn

OPTIONAL = (*(f.name for f in attrs.fields(Session) if f.name != "turn_count"), QUEUE_ATTRIBUTE)


class SessionWrites:
    def __init__(self, writer: PartitionWriter, backoff: Backoff) -> None:
        self._writer = writer
        self._backoff = backoff

    def add(self, session: Session) -> None:
        if not self._writer.put_new(session.session_id, META, session_item(evolve(session, turn_count=0))):
            raise ConcurrentUpdate(f"session {session.session_id} exists")

    def replace(self, current: Session, updated: Session) -> None:
        update = _guarded(current, updated)
        old = self._writer.update_if(current.session_id, META, update, old_on_failure=True)
        if old is None:
            return
        if old or self._writer.reads.session(current.session_id) is not None:
            raise ConcurrentUpdate(f"session {current.session_id} changed")
        raise SessionNotFound(current.session_id)

    def record_transition(
        self, current: Session, updated: Session, announcement: Turn, handoff: Handoff | None = None
    ) -> None:
        """One transaction: the guarded state change, the announcement counted, the handoff record."""
        w = self._writer
        session_id = current.session_id
        child_ttl = ttl_of(updated.expires_at + CHILD_GRACE)
        meta = _guarded(current, evolve(updated, updated_at=max(updated.updated_at, announcement.created_at)))
        items = [
            w.update(session_id, META, meta.increment("turn_count")),
            w.put(
                session_id,
                turn_key(announcement.turn_id),
                turn_item(announcement, child_ttl),
                "the announcement",
            ),
        ]
        if handoff is not None:
            items.append(w.put(session_id, handoff_key(handoff.handoff_id), handoff_item(handoff, child_ttl)))
        for attempt in range(self._backoff.attempts):
            try:
                w.transact(items)
                return
            except Cancelled as cancelled:
                on_meta, *on_children = cancelled.reasons
                if any(r.condition_failed for r in on_children):
                    raise ConcurrentUpdate(f"session {session_id}: the turn or handoff exists") from None
                if on_meta.condition_failed:
                    if w.stored_session(session_id, on_meta) is None:
                        raise SessionNotFound(session_id) from None
                    raise ConcurrentUpdate(f"session {session_id} changed") from None
                self._backoff.pause(attempt)
        raise Unavailable("DynamoDB TransactWriteItems: the session stayed contended")

    def add_turn(
        self, session_id: str, turn: Turn, expected_status: SessionStatus, expires_at: datetime
    ) -> bool:
        """Store and count one turn if the session is in ``expected_status``; False if it is stored."""
        w = self._writer
        turn_put = w.put(
            session_id, turn_key(turn.turn_id), turn_item(turn, ttl_of(expires_at + CHILD_GRACE)), "the turn"
        )
        refresh = Refresh(expires_at, turn.created_at)
        for attempt in range(self._backoff.attempts):
            meta = Update().increment("turn_count").exists()
            meta.when(f"{meta.n('status')} = {meta.v(expected_status)}")
            refresh.apply(meta)
            try:
                w.transact([w.update(session_id, META, meta), turn_put])
                return True
            except Cancelled as cancelled:
                on_meta, on_turn = cancelled.reasons
                if on_meta.condition_failed:
                    stored = w.stored_session(session_id, on_meta)
                    if stored is None:
                        raise SessionNotFound(session_id) from None
                    if stored.status != expected_status:
                        raise UnexpectedStatus(stored.status) from None
                    refresh = refresh.against(stored)
                if on_turn.condition_failed:
                    return False
                if not cancelled.any_condition_failed:
                    self._backoff.pause(attempt)
        raise Unavailable("DynamoDB TransactWriteItems: the session stayed contended")


def _guarded(current: Session, updated: Session) -> Update:
    """Every attribute of ``updated`` but ``turn_count`` (absent ones removed: a detached session
    leaves the connection index, a released one the queue), if the stored status, connection and
    agent are still ``current``'s: of two agents claiming one session, the second finds it taken."""
    item = session_item(updated)
    update = Update().set_item(item, keep=frozenset({"turn_count"})).exists()
    for name in OPTIONAL:
        if name not in item:
            update.remove(name)
    update.when(f"{update.n('status')} = {update.v(current.status)}")
    for name in ("connection_id", "agent_id"):
        expected = getattr(current, name)
        attribute = update.n(name)
        update.when(
            f"attribute_not_exists({attribute})"
            if expected is None
            else f"{attribute} = {update.v(expected)}"
        )
    return update


class AgentReplies:
    """An agent's reply: the turn, counted, and its ``REPLY#`` record in one transaction, if the
    agent still holds the session. The same reply id again writes nothing and returns the turn it
    stored the first time."""

    def __init__(self, writer: PartitionWriter, backoff: Backoff) -> None:
        self._writer = writer
        self._backoff = backoff

    def add(self, session_id: str, reply_id: str, turn: Turn, expires_at: datetime) -> tuple[Turn, bool]:
        w = self._writer
        assert turn.agent_id is not None
        child_ttl = ttl_of(expires_at + CHILD_GRACE)
        turn_put = w.put(session_id, turn_key(turn.turn_id), turn_item(turn, child_ttl), "the reply")
        record_put = w.put(
            session_id,
            reply_key(reply_id),
            to_item({"turn_id": turn.turn_id, "agent_id": turn.agent_id, "ttl": child_ttl}),
        )
        refresh = Refresh(expires_at, turn.created_at)
        for attempt in range(self._backoff.attempts):
            meta = Update().increment("turn_count").exists()
            meta.when(f"{meta.n('status')} = {meta.v(SessionStatus.HANDOFF)}")
            meta.when(f"{meta.n('agent_id')} = {meta.v(turn.agent_id)}")
            refresh.apply(meta)
            try:
                w.transact([w.update(session_id, META, meta), turn_put, record_put])
                return turn, True
            except Cancelled as cancelled:
                if cancelled.any_condition_failed:
                    earlier = self._earlier(session_id, reply_id)
                    if earlier is not None:
                        return earlier, False
                on_meta = cancelled.reasons[0]
                if on_meta.condition_failed:
                    stored = w.stored_session(session_id, on_meta)
                    if stored is None:
                        raise SessionNotFound(session_id) from None
                    if stored.status is not SessionStatus.HANDOFF:
                        raise UnexpectedStatus(stored.status) from None
                    if stored.agent_id != turn.agent_id:
                        raise NotHandoffHolder("you do not hold this session") from None
                    refresh = refresh.against(stored)
                elif cancelled.any_condition_failed:
                    raise ConcurrentUpdate(f"turn {turn.turn_id} exists") from None
                else:
                    self._backoff.pause(attempt)
        raise Unavailable("DynamoDB TransactWriteItems: the session stayed contended")

    def _earlier(self, session_id: str, reply_id: str) -> Turn | None:
        reads = self._writer.reads
        record = reads.item(session_id, reply_key(reply_id))
        if record is None:
            return None
        return reads.turn(session_id, record["turn_id"]["S"])
