"""The writes of the message path: one transaction stores a user turn, one stores its reply.

``record``: Update META (the session is live, this connection's, in the expected state, and its
turn free when the model will answer; count the turn, take the session's turn, move the expiry) +
Put ``TURN#`` (new) + Put ``MSG#`` (new message id) + the limits' items (``counters.LimitItems``:
Update the customer's minute below the rate, ConditionCheck the customer's day below the budget),
all or nothing.
``complete``: Put the reply's ``TURN#`` + mark ``MSG#`` answered + Update META (and end the
session's turn, live) + add the reply's tokens to the customer's day, all or nothing, with a
deterministic ``ClientRequestToken``, so that a replay within DynamoDB's 10 minutes is a no-op.

A cancelled transaction is judged from its cancellation reasons, item by item: ownership first,
then the message id (a repeat returns what is stored; an unanswered one only within the limits),
then the limits, then the session's turn, then the turn. Conflicts and throttling are retried with
jittered backoff, then become ``Unavailable``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from adapters.dynamodb.converter import MessageState, message_item, session_from, ttl_of, turn_item
from adapters.dynamodb.counters import LimitItems, charge_update
from adapters.dynamodb.errors import Backoff
from adapters.dynamodb.expressions import Refresh, Update, live_condition
from adapters.dynamodb.layout import CHILD_GRACE, META, message_key, turn_key
from adapters.dynamodb.session_turn import end_turn, held_by_another, release_turn, take_turn
from adapters.dynamodb.transactions import Cancelled, PartitionWriter, TokenReused
from application.errors import ConcurrentUpdate, ReplyInProgress, Unavailable
from application.ports import NewMessage
from domain.errors import NotSessionOwner, SessionNotFound, UnexpectedStatus
from domain.limits import Charge
from domain.model import Session, SessionStatus, Turn


class MessageWrites:
    def __init__(self, writer: PartitionWriter, backoff: Backoff) -> None:
        self._writer = writer
        self._backoff = backoff

    def record(self, message: NewMessage, limits: LimitItems) -> MessageState | None:
        """``None`` when this call stored the turn; the stored record when the message id is known.
        ``limits``' items ride in the same transaction: over a limit, nothing is written."""
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
            if message.answering:
                take_turn(meta, turn.message_id, now, message.lease_until)
            refresh.apply(meta)
            try:
                w.transact([w.update(session_id, META, meta), turn_put, message_put, *limits.items])
                return None
            except Cancelled as cancelled:
                on_meta, on_turn, on_message = cancelled.reasons[:3]
                busy = False
                if on_meta.condition_failed:
                    old = w.stored_item(session_id, META, on_meta)
                    stored = session_from(old) if old else None
                    refresh = refresh.against(owned(stored, session_id, connection_id, expected_status, now))
                    busy = message.answering and held_by_another(old, turn.message_id, now)
                if on_message.condition_failed:
                    known = w.stored_message(session_id, turn.message_id, on_message)
                    if known is not None:  # a repeat; our own turn id means a replay of our own write
                        if known.user_turn_id == turn.turn_id:
                            return None
                        refusal = limits.refusal(cancelled.reasons) if known.reply_turn_id is None else None
                        if refusal is not None:  # answering it needs the model: the limits apply
                            raise refusal from None
                        return known
                refusal = limits.refusal(cancelled.reasons)
                if refusal is not None:
                    raise refusal from None
                if busy:
                    raise ReplyInProgress() from None
                if on_turn.condition_failed:
                    raise ConcurrentUpdate(f"turn {turn.turn_id} exists") from None
                if not cancelled.any_condition_failed:
                    self._backoff.pause(attempt)
        raise Unavailable("DynamoDB TransactWriteItems: the session stayed contended")

    def complete(
        self,
        session_id: str,
        message_id: str,
        reply: Turn,
        expires_at: datetime,
        charge: Charge | None = None,
        ends_turn: bool = False,
    ) -> bool:
        """True when this call stored the reply; False when it was stored already. ``charge`` is added
        to its customer's day in the same transaction: once, with the reply."""
        w = self._writer
        charged = [charge_update(w.table, charge)] if charge is not None else []
        child_ttl = ttl_of(expires_at + CHILD_GRACE)
        turn_put = w.put(session_id, turn_key(reply.turn_id), turn_item(reply, child_ttl), "the reply")
        answered = Update().set("reply_turn_id", reply.turn_id).remove("lease_until").exists()
        answered.when(f"attribute_not_exists({answered.n('reply_turn_id')})")
        message_update = w.update(session_id, message_key(message_id), answered)
        refresh = Refresh(expires_at, reply.created_at)
        use_token = True
        for attempt in range(self._backoff.attempts):
            meta = Update().increment("turn_count").exists()
            if ends_turn:
                end_turn(meta)
            refresh.apply(meta)
            variant = refresh.variant + ("e" if ends_turn else "")
            token = _token(session_id, message_id, reply.turn_id, variant) if use_token else None
            try:
                w.transact([turn_put, message_update, w.update(session_id, META, meta), *charged], token)
                return True
            except TokenReused:
                use_token = False
            except Cancelled as cancelled:
                on_turn, on_message, on_meta = cancelled.reasons[:3]
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
        """The message's lease and the session's turn, together or not at all."""
        w = self._writer
        update = Update().set("lease_until", lease_until).exists()
        lease = update.n("lease_until")
        update.when(f"attribute_not_exists({update.n('reply_turn_id')})")
        update.when(f"attribute_not_exists({lease}) OR {lease} <= {update.v(now)}")
        turn = Update().exists()
        take_turn(turn, message_id, now, lease_until)
        try:
            w.transact(
                [w.update(session_id, message_key(message_id), update), w.update(session_id, META, turn)]
            )
        except Cancelled as cancelled:
            on_message, on_meta = cancelled.reasons
            if on_message.condition_failed or not on_meta.condition_failed:
                return False  # held or answered (or contended: the caller says "being answered")
            if held_by_another(w.stored_item(session_id, META, on_meta), message_id, now):
                raise ReplyInProgress() from None
            return False  # the session is gone
        return True

    def release(self, session_id: str, message_id: str) -> None:
        update = Update().remove("lease_until").exists()
        update.when(f"attribute_not_exists({update.n('reply_turn_id')})")
        self._writer.update_if(session_id, message_key(message_id), update)

    def end_turn(self, session_id: str, message_id: str) -> None:
        release_turn(self._writer, session_id, message_id)


def owned(
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
