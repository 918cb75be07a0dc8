"""Entities of a support conversation. Frozen attrs classes; every change goes through a method
that refuses illegal moves, and returns a new instance made with ``attrs.evolve``."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from attrs import evolve, frozen

from domain.errors import (
    HeldByAnotherAgent,
    IllegalTransition,
    InvalidInput,
    NotHandoffHolder,
    NotWaiting,
    SessionNotResumable,
)


class SessionStatus(enum.StrEnum):
    ACTIVE = "active"
    DISCONNECTED = "disconnected"
    HANDOFF = "handoff"
    CLOSED = "closed"


class Role(enum.StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"


@frozen
class Session:
    session_id: str
    customer_id: str | None  # None: anonymous, never resumable by id
    connection_id: str | None
    status: SessionStatus
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    turn_count: int = 0
    resumed: bool = False  # this connection's $connect attached to an existing session
    agent_id: str | None = None  # the human agent holding the session during a handoff
    agent_connection_id: str | None = None  # where the agent's console receives the customer's words
    handoff_reason: str | None = None  # why the customer (or an integration) asked for a human
    waiting_since: datetime | None = None  # in handoff: when it last joined the agents' queue
    unclaimed_told: bool = False  # the customer heard that nobody has claimed it yet

    @classmethod
    def open(
        cls, session_id: str, customer_id: str | None, connection_id: str, now: datetime, idle: timedelta
    ) -> Session:
        return cls(
            session_id=session_id,
            customer_id=customer_id,
            connection_id=connection_id,
            status=SessionStatus.ACTIVE,
            created_at=now,
            updated_at=now,
            expires_at=now + idle,
        )

    @property
    def anonymous(self) -> bool:
        return self.customer_id is None

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at <= now

    def owned_by(self, connection_id: str) -> bool:
        return self.connection_id is not None and self.connection_id == connection_id

    def touch(self, now: datetime, idle: timedelta) -> Session:
        """Activity refreshes the idle expiry."""
        return evolve(self, updated_at=now, expires_at=now + idle)

    def resume(self, customer_id: str | None, connection_id: str, now: datetime, idle: timedelta) -> Session:
        """Attach this session to a new connection of the same customer.

        Every refusal is the same error on purpose: the caller must not learn whether the id exists.
        A session in handoff stays with its agent; only a disconnected one becomes active again.
        """
        if (
            self.anonymous
            or customer_id is None
            or self.customer_id != customer_id
            or self.status is SessionStatus.CLOSED
            or self.is_expired(now)
        ):
            raise SessionNotResumable(self.session_id)
        status = SessionStatus.ACTIVE if self.status is SessionStatus.DISCONNECTED else self.status
        return evolve(self, connection_id=connection_id, status=status, resumed=True).touch(now, idle)

    def disconnect(self, now: datetime, idle: timedelta) -> Session:
        """The connection went away. A handoff outlives the socket: the agent keeps the session."""
        if self.status is SessionStatus.CLOSED:
            raise IllegalTransition(f"{self.status} -> disconnected")
        status = SessionStatus.HANDOFF if self.status is SessionStatus.HANDOFF else SessionStatus.DISCONNECTED
        return evolve(self, connection_id=None, status=status).touch(now, idle)

    @property
    def waiting_for_agent(self) -> bool:
        """In handoff with nobody holding it: the session sits in the agents' queue."""
        return self.status is SessionStatus.HANDOFF and self.agent_id is None

    def held_by(self, agent_id: str) -> bool:
        return self.status is SessionStatus.HANDOFF and self.agent_id == agent_id

    def hand_off(
        self,
        now: datetime,
        idle: timedelta,
        agent_id: str | None = None,
        agent_connection_id: str | None = None,
        reason: str | None = None,
    ) -> Session:
        """The bot steps aside: the session waits in the queue, or (``agent_id``) goes straight to
        that agent, as an integration's direct invocation asks."""
        if self.status is not SessionStatus.ACTIVE:
            raise IllegalTransition(f"{self.status} -> handoff")
        return evolve(
            self,
            status=SessionStatus.HANDOFF,
            agent_id=agent_id,
            agent_connection_id=agent_connection_id if agent_id else None,
            handoff_reason=reason,
            waiting_since=now,
            unclaimed_told=False,
        ).touch(now, idle)

    def claim(
        self, agent_id: str, agent_connection_id: str | None, now: datetime, idle: timedelta
    ) -> Session:
        """An agent takes a waiting session. Of two agents claiming at once, the store lets one win;
        here a session someone already holds is refused, whoever asks."""
        if self.status is not SessionStatus.HANDOFF:
            raise NotWaiting(f"session is {self.status}, not waiting for an agent")
        if self.agent_id is not None:
            if self.agent_id == agent_id:
                raise NotWaiting("you already hold this session")
            raise HeldByAnotherAgent("another agent holds this session")
        return evolve(self, agent_id=agent_id, agent_connection_id=agent_connection_id).touch(now, idle)

    def transfer(
        self,
        by_agent: str,
        to_agent: str | None,
        to_connection_id: str | None,
        now: datetime,
        idle: timedelta,
    ) -> Session:
        """The holder hands the session to another agent, or (``to_agent`` None) back to the queue."""
        self._ensure_holder(by_agent)
        if to_agent == by_agent:
            raise InvalidInput("you cannot transfer a session to yourself")
        if to_agent is None:
            return evolve(
                self, agent_id=None, agent_connection_id=None, waiting_since=now, unclaimed_told=False
            ).touch(now, idle)
        return evolve(self, agent_id=to_agent, agent_connection_id=to_connection_id).touch(now, idle)

    def release_to_bot(self, now: datetime, idle: timedelta, by_agent: str | None = None) -> Session:
        """Back to the bot. ``by_agent``: only the agent holding the session may let it go."""
        if self.status is not SessionStatus.HANDOFF:
            raise IllegalTransition(f"{self.status} -> active")
        if by_agent is not None:
            self._ensure_holder(by_agent)
        status = SessionStatus.ACTIVE if self.connection_id else SessionStatus.DISCONNECTED
        return evolve(
            self,
            status=status,
            agent_id=None,
            agent_connection_id=None,
            handoff_reason=None,
            waiting_since=None,
            unclaimed_told=False,
        ).touch(now, idle)

    def tell_unclaimed(self) -> Session:
        """The customer was told that nobody has picked the handoff up yet (once per wait)."""
        if not self.waiting_for_agent or self.unclaimed_told:
            raise IllegalTransition("no unannounced wait")
        return evolve(self, unclaimed_told=True)

    def _ensure_holder(self, agent_id: str) -> None:
        if self.status is not SessionStatus.HANDOFF:
            raise NotWaiting(f"session is {self.status}, not with an agent")
        if self.agent_id != agent_id:
            raise NotHandoffHolder("you do not hold this session")

    def close(self, now: datetime) -> Session:
        if self.status is SessionStatus.CLOSED:
            raise IllegalTransition("closed -> closed")
        return evolve(self, status=SessionStatus.CLOSED, connection_id=None, updated_at=now)


@frozen
class Turn:
    """One utterance. ``turn_id`` sorts in conversation order as a string and never collides.

    A user turn carries the client's ``message_id``; the assistant turn that answers it carries the
    same ``message_id`` (as ``reply_to``) and its own ``response_id``.
    """

    turn_id: str
    role: Role
    content: str
    token_count: int
    created_at: datetime
    message_id: str | None = None
    response_id: str | None = None
    agent_id: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.token_count < 0:
            raise ValueError("token_count must not be negative")

    def reply_id(self) -> str:
        """The id of the assistant turn answering this user turn: right after it, deterministic,
        so a retried reply can only ever land on the same key."""
        return f"{self.turn_id}~a"


@frozen
class Summary:
    """A rolling summary of the conversation up to and including ``last_turn_id``."""

    session_id: str
    text: str
    last_turn_id: str
    turns_covered: int
    created_at: datetime


class HandoffTransition(enum.StrEnum):
    WAITING = "waiting"  # the bot stepped aside; the session joined the agents' queue
    CLAIMED = "claimed"  # an agent took it (from the queue, or directly by an integration)
    TRANSFERRED = "transferred"  # the holder gave it to another agent, or back to the queue
    RELEASED = "released"  # back to the bot


@frozen
class Handoff:
    """One transition of a session's handoff; ``handoff_id`` sorts in time order, so a session's
    handoff records read as its history. ``agent_id``: who holds the session after the transition
    (``UNASSIGNED`` while it waits; on release, the agent who let it go)."""

    handoff_id: str
    session_id: str
    agent_id: str
    reason: str
    timestamp: datetime
    transition: HandoffTransition = HandoffTransition.CLAIMED
    by_agent_id: str | None = None  # the agent who made the move, when an agent made it


UNASSIGNED = "unassigned"
