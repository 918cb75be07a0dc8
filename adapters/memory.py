"""The in-memory session store: the same semantics and the same conditional failures as the DynamoDB
one (the contract suite in tests/contract runs both), safe to share between threads."""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime

from attrs import define, evolve

from adapters.memory_counters import MemoryCounters
from application.errors import ConcurrentUpdate, ReplyInProgress
from application.events import ChangeEvent, SessionExpired, TurnsCounted
from application.ports import (
    AgentConnection,
    ConversationContext,
    MessageRecord,
    NewMessage,
    QueueEntry,
    RecordedMessage,
)
from domain.errors import NotHandoffHolder, NotSessionOwner, SessionNotFound, UnexpectedStatus
from domain.limits import Charge, DailyUsage
from domain.model import Handoff, Session, SessionStatus, Summary, Turn


@define
class _Message:
    user_turn_id: str
    reply_turn_id: str | None
    lease_until: datetime | None


@define
class _Answering:
    """The session's turn: the message the model is answering, until when (one at a time)."""

    message_id: str
    until: datetime


class InMemorySessionRepository:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._sessions: dict[str, Session] = {}
        self._by_connection: dict[str, str] = {}
        self._turn_ids: dict[str, list[str]] = defaultdict(list)  # kept sorted
        self._turns: dict[str, dict[str, Turn]] = defaultdict(dict)
        self._messages: dict[str, dict[str, _Message]] = defaultdict(dict)
        self._summaries: dict[str, list[Summary]] = defaultdict(list)
        self._handoffs: dict[str, list[Handoff]] = defaultdict(list)
        self._answering: dict[str, _Answering] = {}
        self._counters = MemoryCounters()
        self._replies: dict[str, dict[str, str]] = defaultdict(dict)  # reply id -> turn id
        self._agents: dict[str, tuple[AgentConnection, datetime]] = {}
        self.listeners: list[Callable[[ChangeEvent], None]] = []

    # --- sessions ------------------------------------------------------------------------------

    def add(self, session: Session) -> None:
        with self._lock:
            if session.session_id in self._sessions:
                raise ConcurrentUpdate(f"session {session.session_id} exists")
            self._put_session(evolve(session, turn_count=0))

    def get(self, session_id: str) -> Session | None:
        with self._lock:
            return self._sessions.get(session_id)

    def session_id_of_connection(self, connection_id: str) -> str | None:
        with self._lock:
            return self._by_connection.get(connection_id)

    def replace(self, current: Session, updated: Session) -> None:
        with self._lock:
            stored = self._sessions.get(current.session_id)
            if stored is None:
                raise SessionNotFound(current.session_id)
            if (
                stored.status != current.status
                or stored.connection_id != current.connection_id
                or stored.agent_id != current.agent_id
            ):
                raise ConcurrentUpdate(f"session {current.session_id} changed")
            self._put_session(evolve(updated, turn_count=stored.turn_count))

    def _put_session(self, session: Session) -> None:
        previous = self._sessions.get(session.session_id)
        if (
            previous is not None
            and previous.connection_id
            and previous.connection_id != session.connection_id
        ):
            self._by_connection.pop(previous.connection_id, None)
        if session.connection_id:
            self._by_connection[session.connection_id] = session.session_id
        self._sessions[session.session_id] = session

    # --- the message path ----------------------------------------------------------------------

    def record_message(self, message: NewMessage, context_turns: int) -> RecordedMessage:
        session_id, turn = message.session_id, message.turn
        assert turn.message_id is not None
        with self._lock:
            session = self._live(session_id, message.now)
            if not session.owned_by(message.connection_id):
                raise NotSessionOwner(session_id)
            if session.status != message.expected_status:
                raise UnexpectedStatus(session.status)
            known = self._messages[session_id].get(turn.message_id)
            limits = message.limits
            spent = self._counters.spent(limits.day) if limits is not None and limits.daily_tokens else None
            if known is not None and known.reply_turn_id is not None:  # a stored reply is always served
                return RecordedMessage(
                    existing=self._record_of(session_id, turn.message_id, known),
                    context=self._context(session_id, context_turns),
                    budget_spent=spent,
                )
            refusal = self._counters.refusal(limits) if limits is not None else None
            if refusal is not None:
                raise refusal
            if known is not None:
                return RecordedMessage(
                    existing=self._record_of(session_id, turn.message_id, known),
                    context=self._context(session_id, context_turns),
                    budget_spent=spent,
                )
            if message.answering:
                self._take_turn(session_id, turn.message_id, message.now)
            if turn.turn_id in self._turns[session_id]:
                raise ConcurrentUpdate(f"turn {turn.turn_id} exists")
            context = self._context(session_id, context_turns)
            if limits is not None:
                self._counters.count(limits)
            if message.answering:
                self._answering[session_id] = _Answering(turn.message_id, message.lease_until)
            self._messages[session_id][turn.message_id] = _Message(turn.turn_id, None, message.lease_until)
            self._add_turn(session_id, turn, message.expires_at)
            return RecordedMessage(existing=None, context=context, budget_spent=spent)

    def _take_turn(self, session_id: str, message_id: str, now: datetime) -> None:
        """Refuses if another message holds the session's turn (its lease not yet run out)."""
        holder = self._answering.get(session_id)
        if holder is not None and holder.message_id != message_id and holder.until > now:
            raise ReplyInProgress()

    def claim_message(self, session_id: str, message_id: str, now: datetime, lease_until: datetime) -> bool:
        with self._lock:
            known = self._messages[session_id].get(message_id)
            if known is None or known.reply_turn_id is not None:
                return False
            if known.lease_until is not None and known.lease_until > now:
                return False
            self._take_turn(session_id, message_id, now)
            known.lease_until = lease_until
            self._answering[session_id] = _Answering(message_id, lease_until)
            return True

    def release_message(self, session_id: str, message_id: str) -> None:
        with self._lock:
            known = self._messages[session_id].get(message_id)
            if known is not None and known.reply_turn_id is None:
                known.lease_until = None

    def end_turn(self, session_id: str, message_id: str) -> None:
        with self._lock:
            holder = self._answering.get(session_id)
            if holder is not None and holder.message_id == message_id:
                del self._answering[session_id]

    def complete_exchange(
        self,
        session_id: str,
        message_id: str,
        reply: Turn,
        expires_at: datetime,
        charge: Charge | None = None,
        live: bool = False,
    ) -> bool:
        with self._lock:
            if live and charge is not None and charge.everyone:
                self._counters.charge_everyone(charge)  # spent, whatever becomes of this write
            if session_id not in self._sessions:
                raise SessionNotFound(session_id)
            known = self._messages[session_id].get(message_id)
            if known is None:
                raise SessionNotFound(f"message {message_id} of {session_id}")
            if live:
                self.end_turn(session_id, message_id)
            if known.reply_turn_id is not None or reply.turn_id in self._turns[session_id]:
                return False  # already stored: a repeat is a success
            known.reply_turn_id = reply.turn_id
            known.lease_until = None
            self._add_turn(session_id, reply, expires_at)
            if charge is not None:
                self._counters.charge_customer(charge)
            return True

    def _add_turn(self, session_id: str, turn: Turn, expires_at: datetime) -> None:
        bisect.insort(self._turn_ids[session_id], turn.turn_id)
        self._turns[session_id][turn.turn_id] = turn
        session = self._sessions[session_id]
        self._sessions[session_id] = evolve(
            session,
            turn_count=session.turn_count + 1,
            updated_at=max(session.updated_at, turn.created_at),
            expires_at=max(session.expires_at, expires_at),
        )
        self._emit(TurnsCounted(session_id, session.turn_count, session.turn_count + 1))

    def _live(self, session_id: str, now: datetime) -> Session:
        session = self._sessions.get(session_id)
        if session is None or session.is_expired(now):
            raise SessionNotFound(session_id)
        return session

    # --- reads ---------------------------------------------------------------------------------

    def _context(self, session_id: str, context_turns: int) -> ConversationContext:
        summary = self.latest_summary(session_id)
        ids = self._turn_ids[session_id]
        start = bisect.bisect_right(ids, summary.last_turn_id) if summary else 0
        recent = ids[max(start, len(ids) - context_turns) :] if context_turns > 0 else []
        return ConversationContext(summary, [self._turns[session_id][i] for i in recent])

    def history(self, session_id: str, limit: int) -> Sequence[Turn]:
        with self._lock:
            ids = self._turn_ids[session_id][-limit:]
            return [self._turns[session_id][i] for i in ids]

    def message_record(self, session_id: str, message_id: str) -> MessageRecord | None:
        with self._lock:
            known = self._messages[session_id].get(message_id)
            return None if known is None else self._record_of(session_id, message_id, known)

    def message_records(self, session_id: str) -> Sequence[MessageRecord]:
        with self._lock:
            return [
                self._record_of(session_id, mid, known) for mid, known in self._messages[session_id].items()
            ]

    def _record_of(self, session_id: str, message_id: str, known: _Message) -> MessageRecord:
        reply = self._turns[session_id].get(known.reply_turn_id) if known.reply_turn_id else None
        return MessageRecord(message_id, known.user_turn_id, reply, known.lease_until)

    def summaries(self, session_id: str) -> Sequence[Summary]:
        with self._lock:
            return sorted(self._summaries[session_id], key=lambda s: s.last_turn_id)

    def latest_summary(self, session_id: str) -> Summary | None:
        with self._lock:
            summaries = self._summaries[session_id]
            return max(summaries, key=lambda s: s.last_turn_id) if summaries else None

    # --- the asynchronous half --------------------------------------------------------------------

    def turns_after(self, session_id: str, after_turn_id: str | None, limit: int) -> Sequence[Turn]:
        with self._lock:
            ids = self._turn_ids[session_id]
            start = bisect.bisect_right(ids, after_turn_id) if after_turn_id else 0
            return [self._turns[session_id][i] for i in ids[start : start + limit]]

    def add_summary(self, summary: Summary) -> bool:
        with self._lock:
            stored = self._summaries[summary.session_id]
            if any(s.last_turn_id == summary.last_turn_id for s in stored):
                return False
            stored.append(summary)
            return True

    def record_transition(
        self, current: Session, updated: Session, announcement: Turn, handoff: Handoff | None = None
    ) -> None:
        with self._lock:
            session_id = current.session_id
            # Every condition first, as one DynamoDB transaction would: a refusal changes nothing.
            if announcement.turn_id in self._turns[session_id]:
                raise ConcurrentUpdate(f"turn {announcement.turn_id} exists")
            if handoff is not None and any(
                h.handoff_id == handoff.handoff_id for h in self._handoffs[session_id]
            ):
                raise ConcurrentUpdate(f"handoff {handoff.handoff_id} exists")
            self.replace(current, updated)
            if handoff is not None:
                self._handoffs[session_id].append(handoff)
            self._add_turn(session_id, announcement, updated.expires_at)

    def add_turn(
        self, session_id: str, turn: Turn, expected_status: SessionStatus, expires_at: datetime
    ) -> bool:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                raise SessionNotFound(session_id)
            if session.status != expected_status:
                raise UnexpectedStatus(session.status)
            if turn.turn_id in self._turns[session_id]:
                return False
            self._add_turn(session_id, turn, expires_at)
            return True

    # --- usage -----------------------------------------------------------------------------------

    def customer_usage(self, customer: str) -> Sequence[DailyUsage]:
        with self._lock:
            return self._counters.customer_usage(customer)

    def usage_of_day(self, day: str) -> Sequence[DailyUsage]:
        with self._lock:
            return self._counters.usage_of_day(day)

    def all_customers_tokens(self, day: str) -> int:
        with self._lock:
            return self._counters.spent(day)

    def handoffs(self, session_id: str) -> Sequence[Handoff]:
        with self._lock:
            return list(self._handoffs[session_id])

    # --- the agents' side ---------------------------------------------------------------------

    def open_handoffs(self, limit: int, waiting_before: datetime | None = None) -> Sequence[QueueEntry]:
        with self._lock:
            open_ = [
                s
                for s in self._sessions.values()
                if s.status is SessionStatus.HANDOFF
                and (waiting_before is None or (s.waiting_since or s.updated_at) < waiting_before)
            ]
        open_.sort(key=lambda s: (s.waiting_since or s.updated_at, s.session_id))
        return [
            QueueEntry(
                session_id=s.session_id,
                customer_id=s.customer_id,
                reason=s.handoff_reason,
                waiting_since=s.waiting_since or s.updated_at,
                agent_id=s.agent_id,
                expires_at=s.expires_at,
                unclaimed_told=s.unclaimed_told,
            )
            for s in open_[:limit]
        ]

    def add_agent_reply(
        self, session_id: str, reply_id: str, turn: Turn, expires_at: datetime
    ) -> tuple[Turn, bool]:
        with self._lock:
            earlier = self._replies[session_id].get(reply_id)
            if earlier is not None and earlier in self._turns[session_id]:
                return self._turns[session_id][earlier], False
            session = self._sessions.get(session_id)
            if session is None:
                raise SessionNotFound(session_id)
            if session.status is not SessionStatus.HANDOFF:
                raise UnexpectedStatus(session.status)
            if session.agent_id != turn.agent_id:
                raise NotHandoffHolder("you do not hold this session")
            if turn.turn_id in self._turns[session_id]:
                raise ConcurrentUpdate(f"turn {turn.turn_id} exists")
            self._replies[session_id][reply_id] = turn.turn_id
            self._add_turn(session_id, turn, expires_at)
            return turn, True

    def add_agent_connection(self, connection: AgentConnection, expires_at: datetime) -> None:
        with self._lock:
            self._agents[connection.connection_id] = (connection, expires_at)

    def remove_agent_connection(self, connection_id: str) -> None:
        with self._lock:
            self._agents.pop(connection_id, None)

    def agent_connections(self) -> Sequence[AgentConnection]:
        with self._lock:
            return [connection for connection, _ in self._agents.values()]

    def delete_session(self, session_id: str) -> int:
        with self._lock:
            session = self._sessions.pop(session_id, None)
            if session is not None and session.connection_id:
                self._by_connection.pop(session.connection_id, None)
            count = (
                int(session is not None)
                + len(self._turns.pop(session_id, {}))
                + len(self._messages.pop(session_id, {}))
                + len(self._summaries.pop(session_id, []))
                + len(self._handoffs.pop(session_id, []))
                + len(self._replies.pop(session_id, {}))
            )
            self._turn_ids.pop(session_id, None)
            self._answering.pop(session_id, None)  # an attribute of META in DynamoDB: gone with it
            return count

    def expire_due(self, now: datetime) -> list[SessionExpired]:
        """What DynamoDB's TTL service does: remove the META of every session idle past its expiry,
        leaving the rest for the cleanup worker, which the change feed tells."""
        with self._lock:
            expired = [s for s in self._sessions.values() if s.is_expired(now)]
            events = []
            for session in expired:
                del self._sessions[session.session_id]
                if session.connection_id:
                    self._by_connection.pop(session.connection_id, None)
                events.append(SessionExpired(session.session_id, session.connection_id))
        for event in events:
            self._emit(event)
        return events

    # --- change feed (feeds the in-process workers, as DynamoDB Streams feed the Lambda ones) -------

    def _emit(self, event: ChangeEvent) -> None:
        for listener in list(self.listeners):
            listener(event)
