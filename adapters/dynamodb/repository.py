"""``SessionRepository`` on DynamoDB: the same semantics and the same errors as the in-memory store
(``tests/contract`` runs one suite over both).

The message path in round trips, for a warm container:

1. ``record_message``: one ``TransactWriteItems`` (ownership, state and liveness checked, user turn,
   message id, turn count, expiry, the session's turn, the customer's rate and budget) in parallel
   with two eventually consistent Queries (the newest turns, the latest summary) — three calls, one
   round trip;
2. the model;
3. ``complete_exchange``: one ``TransactWriteItems`` (reply, answered, the customer's day charged)
   — one call, one round trip.

Four calls and two sequential round trips per new message, when the frame names its session or this
container has seen its connection; otherwise one GSI Query comes first (``ConnectionIndex``). A cold
container adds no call, only a TLS handshake on the first one. With an all-customers budget
(``DAILY_TOKENS``), a reply's tokens are added to a shard in parallel with step 3, and the view of
the day's total is refreshed in parallel with step 1 when it is 5 s old (``all_customers.py``): a
process's first message of a UTC day reads it first, one more round trip once a day.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any

from adapters.dynamodb.agents import AgentDesk
from adapters.dynamodb.all_customers import AllCustomersBudget
from adapters.dynamodb.connections import ConnectionIndex
from adapters.dynamodb.converter import MessageState
from adapters.dynamodb.counters import LimitItems
from adapters.dynamodb.errors import Backoff
from adapters.dynamodb.message_writes import MessageWrites, owned
from adapters.dynamodb.reads import TableReads
from adapters.dynamodb.session_writes import AgentReplies, SessionWrites
from adapters.dynamodb.transactions import PartitionWriter
from adapters.dynamodb.upkeep import Upkeep
from adapters.dynamodb.usage import UsageTable
from application.ports import (
    AgentConnection,
    ConversationContext,
    MessageRecord,
    NewMessage,
    QueueEntry,
    RecordedMessage,
)
from domain.limits import Charge, DailyUsage, Limit, LimitCheck
from domain.model import Handoff, Session, SessionStatus, Summary, Turn

log = logging.getLogger(__name__)

# Two reads per message; threads are made only as needed, so a Lambda (one message at a time) runs
# two, and a local server answering many connections at once is not held up behind a small pool.
READ_THREADS = 32


class DynamoDBSessionRepository:
    def __init__(
        self,
        table_name: str,
        client: Any | None = None,
        backoff: Backoff | None = None,
        connections: ConnectionIndex | None = None,
        budget: AllCustomersBudget | None = None,
    ) -> None:
        if client is None:
            from adapters.dynamodb.client import dynamodb_client

            client = dynamodb_client()
        backoff = backoff or Backoff()
        self.client = client
        self.table_name = table_name
        self._reads = TableReads(client, table_name)
        writer = PartitionWriter(client, table_name, self._reads, backoff)
        self._sessions = SessionWrites(writer, backoff)
        self._messages = MessageWrites(writer, backoff)
        self._upkeep = Upkeep(writer, backoff)
        self._replies = AgentReplies(writer, backoff)
        self._desk = AgentDesk(client, table_name)
        self.connections = connections or ConnectionIndex(self._reads)
        self._budget = budget or AllCustomersBudget(client, table_name)
        self._usage = UsageTable(client, table_name, self._budget)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    # --- sessions ------------------------------------------------------------------------------

    def add(self, session: Session) -> None:
        self._sessions.add(session)
        if session.connection_id:
            self.connections.remember(session.connection_id, session.session_id)

    def get(self, session_id: str) -> Session | None:
        return self._reads.session(session_id)

    def session_id_of_connection(self, connection_id: str) -> str | None:
        return self.connections.lookup(connection_id)

    def replace(self, current: Session, updated: Session) -> None:
        self._sessions.replace(current, updated)
        self._moved(current, updated)

    def record_transition(
        self, current: Session, updated: Session, announcement: Turn, handoff: Handoff | None = None
    ) -> None:
        self._sessions.record_transition(current, updated, announcement, handoff)
        self._moved(current, updated)

    def add_turn(
        self, session_id: str, turn: Turn, expected_status: SessionStatus, expires_at: datetime
    ) -> bool:
        return self._sessions.add_turn(session_id, turn, expected_status, expires_at)

    def _moved(self, current: Session, updated: Session) -> None:
        if current.connection_id and current.connection_id != updated.connection_id:
            self.connections.forget(current.connection_id)
        if updated.connection_id:
            self.connections.remember(updated.connection_id, updated.session_id)

    # --- the message path ----------------------------------------------------------------------

    def record_message(self, message: NewMessage, context_turns: int) -> RecordedMessage:
        session_id, turn = message.session_id, message.turn
        assert turn.message_id is not None
        spent, refresh = self._budget_view(message.limits, message.now)
        try:
            # One more than asked: the eventually consistent read may or may not see our own new turn.
            wanted = context_turns + 1 if context_turns > 0 else 0
            recent, summary = self._context_reads(session_id, wanted, consistent=False)
            state: MessageState | None
            if spent is not None and message.limits is not None and spent >= message.limits.daily_tokens:
                state = self._known_while_over_budget(message, message.limits)
            else:
                state = self._messages.record(message, LimitItems(self.table_name, message.limits))
            try:
                newest_first, latest = recent.result(), summary.result()
            except Exception:
                if state is None:  # the turn is stored: free its lease so that the client's retry answers it
                    self._release_quietly(session_id, turn.message_id)
                raise
        finally:
            _settle(refresh, "could not refresh the view of every customer's tokens")
        context = _context(latest, newest_first, context_turns, exclude=turn.turn_id)
        if state is None:
            return RecordedMessage(existing=None, context=context, budget_spent=spent)
        reply = None
        if state.reply_turn_id is not None:
            seen = {t.turn_id: t for t in newest_first}
            reply = seen.get(state.reply_turn_id) or self._reads.turn(session_id, state.reply_turn_id)
        record = MessageRecord(turn.message_id, state.user_turn_id, reply, state.lease_until)
        return RecordedMessage(existing=record, context=context, budget_spent=spent)

    def _budget_view(self, limits: LimitCheck | None, now: datetime) -> tuple[int | None, Future[int] | None]:
        """Every customer's tokens today as this process sees them, and the refresh under way."""
        if limits is None or not limits.daily_tokens:
            return None, None
        spent = self._budget.view(limits.day)
        if spent is None:  # this process's first message of the day: it reads before it judges
            return self._budget.read(limits.day, now), None
        if self._budget.stale(limits.day, now):
            return spent, self._executor().submit(self._budget.read, limits.day, now)
        return spent, None

    def _known_while_over_budget(self, message: NewMessage, limits: LimitCheck) -> MessageState:
        """Every customer's budget is spent: only a message whose reply is stored is served. Read
        (not written), in the same round trip as the context: the session, to check it is this
        connection's, and the message id."""
        pool = self._executor()
        meta = pool.submit(self._reads.session, message.session_id)
        assert message.turn.message_id is not None
        known = self._reads.message(message.session_id, message.turn.message_id)
        owned(meta.result(), message.session_id, message.connection_id, message.expected_status, message.now)
        if known is None or known.reply_turn_id is None:
            raise limits.refused(Limit.DAILY_TOKENS)
        return known

    def claim_message(self, session_id: str, message_id: str, now: datetime, lease_until: datetime) -> bool:
        return self._messages.claim(session_id, message_id, now, lease_until)

    def release_message(self, session_id: str, message_id: str) -> None:
        self._messages.release(session_id, message_id)

    def end_turn(self, session_id: str, message_id: str) -> None:
        self._messages.end_turn(session_id, message_id)

    def complete_exchange(
        self,
        session_id: str,
        message_id: str,
        reply: Turn,
        expires_at: datetime,
        charge: Charge | None = None,
        live: bool = False,
    ) -> bool:
        everyone = None
        if live and charge is not None and charge.everyone:  # spent, whatever becomes of this write
            everyone = self._executor().submit(self._budget.charge, charge)
        try:
            return self._messages.complete(session_id, message_id, reply, expires_at, charge, ends_turn=live)
        finally:
            _settle(everyone, "a reply's tokens were not added to every customer's day")

    # --- usage ---------------------------------------------------------------------------------

    def customer_usage(self, customer: str) -> Sequence[DailyUsage]:
        return self._usage.customer(customer)

    def usage_of_day(self, day: str) -> Sequence[DailyUsage]:
        return self._usage.day(day)

    def all_customers_tokens(self, day: str) -> int:
        return self._usage.all_customers(day)

    # --- reads ---------------------------------------------------------------------------------

    def history(self, session_id: str, limit: int) -> Sequence[Turn]:
        return list(reversed(self._reads.turns(session_id, limit, consistent=True)))

    def message_record(self, session_id: str, message_id: str) -> MessageRecord | None:
        state = self._reads.message(session_id, message_id)
        if state is None:
            return None
        reply = self._reads.turn(session_id, state.reply_turn_id) if state.reply_turn_id else None
        return MessageRecord(message_id, state.user_turn_id, reply, state.lease_until)

    def message_records(self, session_id: str) -> Sequence[MessageRecord]:
        """Every message id the session remembers, in the order they were asked (for inspection)."""
        states = sorted(self._reads.messages(session_id), key=lambda s: s.user_turn_id)
        replies = self._reads.turns_by_id(session_id, [s.reply_turn_id for s in states if s.reply_turn_id])
        return [
            MessageRecord(s.message_id, s.user_turn_id, replies.get(s.reply_turn_id or ""), s.lease_until)
            for s in states
        ]

    # --- the asynchronous half ----------------------------------------------------------------

    def latest_summary(self, session_id: str) -> Summary | None:
        return self._reads.latest_summary(session_id, consistent=True)

    def summaries(self, session_id: str) -> Sequence[Summary]:
        return self._reads.summaries(session_id)

    def turns_after(self, session_id: str, after_turn_id: str | None, limit: int) -> Sequence[Turn]:
        return self._reads.turns_after(session_id, after_turn_id, limit)

    def add_summary(self, summary: Summary) -> bool:
        return self._upkeep.add_summary(summary)

    def handoffs(self, session_id: str) -> Sequence[Handoff]:
        return self._reads.handoffs(session_id)

    # --- the agents' side ---------------------------------------------------------------------

    def open_handoffs(self, limit: int, waiting_before: datetime | None = None) -> Sequence[QueueEntry]:
        return self._desk.open_handoffs(limit, waiting_before)

    def add_agent_reply(
        self, session_id: str, reply_id: str, turn: Turn, expires_at: datetime
    ) -> tuple[Turn, bool]:
        return self._replies.add(session_id, reply_id, turn, expires_at)

    def add_agent_connection(self, connection: AgentConnection, expires_at: datetime) -> None:
        self._desk.add_agent_connection(connection, expires_at)

    def remove_agent_connection(self, connection_id: str) -> None:
        self._desk.remove_agent_connection(connection_id)

    def agent_connections(self) -> Sequence[AgentConnection]:
        return self._desk.agent_connections()

    def delete_session(self, session_id: str) -> int:
        deleted, connection_id = self._upkeep.delete_session(session_id)
        if connection_id:
            self.connections.forget(connection_id)
        return deleted

    # --- plumbing ------------------------------------------------------------------------------

    def _context_reads(
        self, session_id: str, turns: int, consistent: bool
    ) -> tuple[Future[list[Turn]], Future[Summary | None]]:
        pool = self._executor()
        recent = pool.submit(self._reads.turns, session_id, turns, consistent)
        summary = pool.submit(self._reads.latest_summary, session_id, consistent)
        return recent, summary

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            with self._pool_lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(READ_THREADS, thread_name_prefix="dynamodb-read")
        return self._pool

    def _release_quietly(self, session_id: str, message_id: str) -> None:
        try:
            self._messages.release(session_id, message_id)
            self._messages.end_turn(session_id, message_id)
        except Exception:  # the lease then runs out by itself; the read failure is what we report
            log.warning("could not release the lease after a failed context read", exc_info=True)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def _settle(future: Future[Any] | None, failure: str) -> None:
    """Wait for work done alongside the request; its failure is logged, never the request's."""
    if future is None:
        return
    try:
        future.result()
    except Exception:
        log.warning(failure, exc_info=True)


def _context(
    summary: Summary | None, newest_first: Sequence[Turn], limit: int, exclude: str | None = None
) -> ConversationContext:
    """The turns after the summary, at most ``limit``, oldest first."""
    if limit <= 0:
        return ConversationContext(summary, [])
    after = [
        t
        for t in newest_first
        if t.turn_id != exclude and (summary is None or t.turn_id > summary.last_turn_id)
    ]
    return ConversationContext(summary, list(reversed(after[:limit])))
