"""The writes of the message path: one transaction stores a user turn, one stores its reply.

``record``: Update META (the session is live, this connection's, in the expected state; count the
turn, move the expiry) + Put ``TURN#`` (new) + Put ``MSG#`` (new message id), all or nothing.
``complete``: Put the reply's ``TURN#`` + mark ``MSG#`` answered + Update META, all or nothing, with
a deterministic ``ClientRequestToken``, so that a replay within DynamoDB's 10 minutes is a no-op.

A cancelled transaction is judged from its cancellation reasons, item by item: ownership first,
then the message id (a repeat returns what is stored), then the turn. Conflicts and throttling are
retried with jittered backoff, then become ``Unavailable``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from adapters.dynamodb.converter import MessageState, message_item, ttl_of, turn_item
from adapters.dynamodb.errors import Backoff
from adapters.dynamodb.expressions import Refresh, Update, live_condition
from adapters.dynamodb.layout import CHILD_GRACE, META, message_key, turn_key
from adapters.dynamodb.transactions import Cancelled, PartitionWriter, TokenReused
from application.errors import ConcurrentUpdate, Unavailable
from application.ports import NewMessage
from domain.errors import NotSessionOwner, SessionNotFound, UnexpectedStatus
from domain.model import Session, SessionStatus, Turn


class MessageWrites:
    def __init__(self, writer: PartitionWriter, backoff: Backoff) -> None:
        self._writer = writer
        self._backoff = backoff

    def record(self, message: NewMessage) -> MessageState | None:
        """``None`` when this call stored the turn; the stored record when the message id is known."""
        session_id, connection_id, turn = message.session_id, message.connection_id, message.turn
        expected_status, now, expires_at = message.expected_status, message.now, message.expires_at
        assert turn.message_id is not None
        w = self._writer
        child_ttl = ttl_of(expires_at + CHILD_GRACE)
        turn_put = w.put(session_id, turn_key(turn.turn_id), turn_item(turn, child_ttl), "the message")
        state = MessageState(turn.turn_id, None, message.lease_until)
        message_put = w.put(session_id, message_key(turn.message_id), message_item(state, child_ttl))
        refresh = Refresh(expires_at, turn.created_at)
        for attempt in range(self._backoff.attempts):
            meta = Update().increment("turn_count").exists()
            meta.when(live_condition(meta, now))
            meta.when(f"{meta.n('connection_id')} = {meta.v(connection_id)}")
            meta.when(f"{meta.n('status')} = {meta.v(expected_status)}")
            refresh.apply(meta)
            try:
                w.transact([w.update(session_id, META, meta), turn_put, message_put])
                return None
            except Cancelled as cancelled:
                on_meta, on_turn, on_message = cancelled.reasons
                if on_meta.condition_failed:
                    stored = w.stored_session(session_id, on_meta)
                    refresh = refresh.against(_owned(stored, session_id, connection_id, expected_status, now))
                if on_message.condition_failed:
                    known = w.stored_message(session_id, turn.message_id, on_message)
                    if known is not None:  # a repeat; our own turn id means a replay of our own write
                        return None if known.user_turn_id == turn.turn_id else known
                elif on_turn.condition_failed:
                    raise ConcurrentUpdate(f"turn {turn.turn_id} exists") from None
                if not cancelled.any_condition_failed:
                    self._backoff.pause(attempt)
        raise Unavailable("DynamoDB TransactWriteItems: the session stayed contended")

    def complete(self, session_id: str, message_id: str, reply: Turn, expires_at: datetime) -> bool:
        """True when this call stored the reply; False when it was stored already."""
        w = self._writer
        child_ttl = ttl_of(expires_at + CHILD_GRACE)
        turn_put = w.put(session_id, turn_key(reply.turn_id), turn_item(reply, child_ttl), "the reply")
        answered = Update().set("reply_turn_id", reply.turn_id).remove("lease_until").exists()
        answered.when(f"attribute_not_exists({answered.n('reply_turn_id')})")
        message_update = w.update(session_id, message_key(message_id), answered)
        refresh = Refresh(expires_at, reply.created_at)
        use_token = True
        for attempt in range(self._backoff.attempts):
            meta = Update().increment("turn_count").exists()
            refresh.apply(meta)
            token = _token(session_id, message_id, reply.turn_id, refresh.variant) if use_token else None
            try:
                w.transact([turn_put, message_update, w.update(session_id, META, meta)], token)
                return True
            except TokenReused:
                use_token = False
            except Cancelled as cancelled:
                on_turn, on_message, on_meta = cancelled.reasons
                if on_meta.condition_failed:
                    stored = w.stored_session(session_id, on_meta)
                    if stored is None:
                        raise SessionNotFound(session_id) from None
                    refresh = refresh.against(stored)  # a newer write moved the expiry: leave it
                if on_message.condition_failed:
                    known = w.stored_message(session_id, message_id, on_message)
                    if known is None:
                        raise SessionNotFound(f"message {message_id} of {session_id}") from None
                    if known.reply_turn_id is not None:
                        return False  # answered already: a repeat is a success
                if on_turn.condition_failed:
                    return False
                if not cancelled.any_condition_failed:
                    self._backoff.pause(attempt)
        raise Unavailable("DynamoDB TransactWriteItems: the reply stayed contended")

    def claim(self, session_id: str, message_id: str, now: datetime, lease_until: datetime) -> bool:
        update = Update().set("lease_until", lease_until).exists()
        lease = update.n("lease_until")
        update.when(f"attribute_not_exists({update.n('reply_turn_id')})")
        update.when(f"attribute_not_exists({lease}) OR {lease} <= {update.v(now)}")
        return self._writer.update_if(session_id, message_key(message_id), update) is None

    def release(self, session_id: str, message_id: str) -> None:
        update = Update().remove("lease_until").exists()
        update.when(f"attribute_not_exists({update.n('reply_turn_id')})")
        self._writer.update_if(session_id, message_key(message_id), update)


def _owned(
    stored: Session | None, session_id: str, connection_id: str, expected: SessionStatus, now: datetime
) -> Session:
    """The memory store's order of refusals: gone or expired, then not yours, then the wrong state."""
    if stored is None or stored.is_expired(now):
        raise SessionNotFound(session_id)
    if not stored.owned_by(connection_id):
        raise NotSessionOwner(session_id)
    if stored.status != expected:
        raise UnexpectedStatus(stored.status)
    return stored


def _token(session_id: str, message_id: str, reply_turn_id: str, variant: str) -> str:
    """Deterministic, so that the turn writer's replay of a write that did land is a no-op. The
    refresh variant is part of it: a token must never come back with other parameters."""
    digest = hashlib.sha256(f"{session_id}\n{message_id}\n{reply_turn_id}\n{variant}".encode()).hexdigest()
    return digest[:36]
