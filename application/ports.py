"""Ports: what the use cases need from the outside world, in domain terms only."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from attrs import frozen

from application.events import Event
from application.events import PendingWrite as PendingWrite  # re-exported: the retry queue speaks it
from domain.limits import Charge, DailyUsage, LimitCheck
from domain.model import Handoff, Role, Session, SessionStatus, Summary, Turn

Frame = Mapping[str, Any]


# --- conversation store -------------------------------------------------------------------------


@frozen
class ConversationContext:
    """What the prompt is built from: the latest summary and the turns after it, oldest first."""

    summary: Summary | None
    turns: Sequence[Turn]


@frozen
class MessageRecord:
    """What the store remembers of one client message id (idempotency)."""

    message_id: str
    user_turn_id: str
    reply: Turn | None  # None while the message is unanswered
    lease_until: datetime | None  # an invocation answering it holds the lease until then


@frozen
class RecordedMessage:
    """Outcome of recording a user message: ``existing`` is ``None`` when this call stored the user
    turn, else what the store already had for that message id (nothing was written)."""

    existing: MessageRecord | None
    context: ConversationContext
    budget_spent: int | None = None  # every customer's tokens today as the store saw them (DAILY_TOKENS)


@frozen
class NewMessage:
    """A customer's message to store once: the user turn, who sends it, the state the session must be
    in, and the times the store writes (the answer's lease, the session's new expiry).

    ``limits``: checked, and the message counted, in the same atomic step that stores it.
    ``answering``: the model will answer it, so it takes the session's turn until ``lease_until``:
    a session answers one message at a time."""

    session_id: str
    connection_id: str
    turn: Turn
    expected_status: SessionStatus
    now: datetime
    lease_until: datetime
    expires_at: datetime
    limits: LimitCheck | None = None
    answering: bool = False


class SessionStore(Protocol):
    """A session's state and its transitions."""

    def add(self, session: Session) -> None:
        """Store a new session. Raises ``ConcurrentUpdate`` if the id is taken."""

    def get(self, session_id: str) -> Session | None:
        """The session, strongly consistent; ``None`` when unknown. Expired sessions are returned
        (the caller decides) until the store deletes them."""

    def session_id_of_connection(self, connection_id: str) -> str | None:
        """The session attached to a connection. Backed by an index that may lag a write briefly."""

    def replace(self, current: Session, updated: Session) -> None:
        """Write ``updated`` (status, connection, customer, times) only if the stored session still
        has ``current``'s status and connection. Raises ``ConcurrentUpdate`` otherwise, and
        ``SessionNotFound`` if it is gone. Never changes ``turn_count``."""

    def record_transition(
        self, current: Session, updated: Session, announcement: Turn, handoff: Handoff | None = None
    ) -> None:
        """All or nothing: the session moves from ``current``'s state to ``updated`` (guarded like
        ``replace``), the system turn ``announcement`` is stored and counted, and ``handoff`` (when
        given) is recorded. Raises ``ConcurrentUpdate`` if the session changed meanwhile."""

    def delete_session(self, session_id: str) -> int:
        """Delete every item left of the session (its META may already be gone); the count deleted."""


class MessageLog(Protocol):
    """The conversation's turns as they are written, and the idempotency records of message ids."""

    def record_message(self, message: NewMessage, context_turns: int) -> RecordedMessage:
        """Atomically store the user turn, remember its message id, count the turn and refresh the
        session's expiry, if the session is live, owned by the connection, in the expected status
        and the message id is new; load the conversation context (at most ``context_turns`` turns
        after the latest summary) alongside.

        A known message id stores nothing and returns its record: with its reply, whatever the limits;
        without one, only if the limits let it through (answering it needs the model).

        Raises ``SessionNotFound`` (unknown or expired), ``NotSessionOwner``, ``UnexpectedStatus``
        carrying the actual one, then ``LimitReached`` (the first limit it is over) and
        ``ReplyInProgress`` (another message holds the session's turn): all before writing anything.
        Every customer's daily budget may be judged on a view of the day's total a few seconds old."""

    def claim_message(self, session_id: str, message_id: str, now: datetime, lease_until: datetime) -> bool:
        """Take the lease on an unanswered message whose previous lease ended, and the session's turn
        with it. False if the lease is held or the message answered; ``ReplyInProgress`` if another
        message holds the session's turn."""

    def release_message(self, session_id: str, message_id: str) -> None:
        """Give the lease up early (the model failed), so the client's retry need not wait for it."""

    def end_turn(self, session_id: str, message_id: str) -> None:
        """The session's turn ends, if this message holds it: the next message may be answered."""

    def complete_exchange(
        self,
        session_id: str,
        message_id: str,
        reply: Turn,
        expires_at: datetime,
        charge: Charge | None = None,
        live: bool = False,
    ) -> bool:
        """Atomically store the reply turn, mark the message answered, count the turn, refresh the
        session's expiry and add ``charge`` to its customer's day. Safe to repeat: a reply already
        stored is a success (returns False; True when this call stored it), charged once.

        ``live``: the invocation that called the model stores it, so the session's turn ends, and the
        tokens count toward every customer's day (``charge.everyone``) even if this write fails and is
        replayed later; a replay (not ``live``) does neither."""

    def message_record(self, session_id: str, message_id: str) -> MessageRecord | None: ...

    def add_turn(
        self, session_id: str, turn: Turn, expected_status: SessionStatus, expires_at: datetime
    ) -> bool:
        """Store and count one turn (an agent's reply) if the session is in ``expected_status``;
        False if a turn with this id is already stored. Raises ``UnexpectedStatus``/``SessionNotFound``."""


class SummaryStore(Protocol):
    """What rolling summaries read and write."""

    def latest_summary(self, session_id: str) -> Summary | None: ...

    def turns_after(self, session_id: str, after_turn_id: str | None, limit: int) -> Sequence[Turn]:
        """At most ``limit`` turns following ``after_turn_id`` (from the first turn if ``None``),
        oldest first."""

    def add_summary(self, summary: Summary) -> bool:
        """Store a summary unless one covering the same last turn exists (then False: a repeat)."""


class ConversationReads(Protocol):
    """The read side: a customer's history, and an operator's view of a session (inspect, timeline)."""

    def history(self, session_id: str, limit: int) -> Sequence[Turn]:
        """The last ``limit`` turns, oldest first."""

    def turns_after(self, session_id: str, after_turn_id: str | None, limit: int) -> Sequence[Turn]:
        """As ``SummaryStore.turns_after``."""

    def summaries(self, session_id: str) -> Sequence[Summary]:
        """Every summary of the session, oldest first."""

    def handoffs(self, session_id: str) -> Sequence[Handoff]: ...

    def message_records(self, session_id: str) -> Sequence[MessageRecord]:
        """Every message id the session remembers (which ones still lack a reply)."""


class UsageReads(Protocol):
    """What customers spent on the model, for an operator (``manga-assist usage``)."""

    def customer_usage(self, customer: str) -> Sequence[DailyUsage]:
        """The customer's days the store keeps (35), oldest first."""

    def usage_of_day(self, day: str) -> Sequence[DailyUsage]:
        """Every customer's usage of one UTC day."""

    def all_customers_tokens(self, day: str) -> int:
        """Every customer's tokens of the day, as counted for ``DAILY_TOKENS`` (0 when none is set)."""


class EventPublisher(Protocol):
    def publish(self, event: Event) -> None:
        """Hand ``event`` to its handlers (``application.messagebus``)."""


@frozen
class QueueEntry:
    """One open handoff as the agents' queue shows it: waiting (``agent_id`` None) or held."""

    session_id: str
    customer_id: str | None
    reason: str | None
    waiting_since: datetime
    agent_id: str | None
    expires_at: datetime  # an expired session stays in the index until the TTL service removes it
    unclaimed_told: bool = False


@frozen
class AgentConnection:
    """A connected agent's console."""

    connection_id: str
    agent_id: str
    connected_at: datetime


class HandoffDesk(Protocol):
    """What the agents' side needs from the store, beside the session itself."""

    def open_handoffs(self, limit: int, waiting_before: datetime | None = None) -> Sequence[QueueEntry]:
        """Sessions in handoff, waiting or held, oldest ``waiting_since`` first (only those waiting
        since before ``waiting_before``, when given); never a Scan. The index behind it may lag a
        transition by a moment."""

    def add_agent_reply(
        self, session_id: str, reply_id: str, turn: Turn, expires_at: datetime
    ) -> tuple[Turn, bool]:
        """Store and count ``turn`` (by ``turn.agent_id``) and remember ``reply_id``, atomically, if
        that agent holds the session. A known ``reply_id`` stores nothing and returns the turn stored
        under it, with False. Raises ``SessionNotFound``, ``UnexpectedStatus`` or ``NotHandoffHolder``."""

    def add_agent_connection(self, connection: AgentConnection, expires_at: datetime) -> None: ...

    def remove_agent_connection(self, connection_id: str) -> None:
        """Forget a console; one already forgotten is no error."""

    def agent_connections(self) -> Sequence[AgentConnection]:
        """Every connected agent's console (strongly consistent)."""


class SessionRepository(
    SessionStore, MessageLog, SummaryStore, ConversationReads, UsageReads, HandoffDesk, Protocol
):
    """Everything a session store offers: what each store adapter implements. Use cases ask for the
    narrow ports above; only wiring and tests see the whole."""


class RetryQueue(Protocol):
    def enqueue(self, write: PendingWrite) -> None:
        """Hand a failed write to the turn writer. Raises ``Unavailable`` if the queue refuses."""


# --- model -------------------------------------------------------------------------------------


@frozen
class PromptMessage:
    role: Role  # USER or ASSISTANT; Converse accepts no other
    text: str


@frozen
class Prompt:
    system: Sequence[str]
    messages: Sequence[PromptMessage]
    estimated_tokens: int


@frozen
class Delta:
    text: str


@frozen
class Usage:
    input_tokens: int | None
    output_tokens: int | None


ReplyEvent = Delta | Usage


class LanguageModel(Protocol):
    def stream_reply(self, prompt: Prompt) -> Iterator[ReplyEvent]:
        """Text deltas as the model produces them, then at most one ``Usage``. Raises
        ``ModelUnavailable`` or ``ModelFailed``, possibly after some deltas."""

    def complete(self, prompt: Prompt) -> tuple[str, Usage]:
        """A whole reply at once (summaries)."""


class TokenCounter(Protocol):
    def count(self, text: str) -> int:
        """A conservative (never low) estimate of the tokens ``text`` costs the model."""

    def observe(self, estimated: int, actual: int) -> None:
        """The model reported ``actual`` input tokens for a prompt estimated at ``estimated``."""


# --- push --------------------------------------------------------------------------------------


class Notifier(Protocol):
    def push(self, connection_id: str, frame: Frame) -> None:
        """Send one frame to a connection. Raises ``ConnectionGone`` if the client left."""

    def close(self, connection_id: str) -> None:
        """Close a connection from the server side; a connection already gone is no error."""


# --- telemetry ---------------------------------------------------------------------------------


class Telemetry(Protocol):
    """Operational metrics (names in ``application.telemetry``); never message content."""

    def count(self, name: str, value: float = 1, **dimensions: str) -> None: ...

    def milliseconds(self, name: str, value: float) -> None: ...

    def percent(self, name: str, value: float) -> None: ...


# --- time and ids ------------------------------------------------------------------------------


class Clock(Protocol):
    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...


class IdGenerator(Protocol):
    def session_id(self) -> str: ...

    def turn_id(self, now: datetime) -> str:
        """Sorts after every id this process made before, and never collides with another process's."""

    def response_id(self) -> str: ...
