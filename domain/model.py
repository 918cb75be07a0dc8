"""Entities of a support conversation. Frozen attrs classes; every change goes through a method
that refuses illegal moves, and returns a new instance made with ``attrs.evolve``."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from attrs import evolve, frozen

from domain.errors import IllegalTransition, SessionNotResumable


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

    def hand_off(
        self,
        now: datetime,
        idle: timedelta,
        agent_id: str | None = None,
        agent_connection_id: str | None = None,
    ) -> Session:
        if self.status is not SessionStatus.ACTIVE:
            raise IllegalTransition(f"{self.status} -> handoff")
        return evolve(
            self, status=SessionStatus.HANDOFF, agent_id=agent_id, agent_connection_id=agent_connection_id
        ).touch(now, idle)

    def assign_agent(
        self, agent_id: str, agent_connection_id: str | None, now: datetime, idle: timedelta
    ) -> Session:
        """An agent picks up a session already handed off (for example, one the customer asked for)."""
        if self.status is not SessionStatus.HANDOFF:
            raise IllegalTransition(f"{self.status}: no handoff to pick up")
        return evolve(self, agent_id=agent_id, agent_connection_id=agent_connection_id).touch(now, idle)

    def release_to_bot(self, now: datetime, idle: timedelta) -> Session:
        if self.status is not SessionStatus.HANDOFF:
            raise IllegalTransition(f"{self.status} -> active")
        status = SessionStatus.ACTIVE if self.connection_id else SessionStatus.DISCONNECTED
        return evolve(self, status=status, agent_id=None, agent_connection_id=None).touch(now, idle)

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


@frozen
class Handoff:
    """A transfer of the session to a human agent; ``handoff_id`` sorts in time order."""

    handoff_id: str
    session_id: str
    agent_id: str
    reason: str
    timestamp: datetime
