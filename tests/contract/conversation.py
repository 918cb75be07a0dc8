"""A conversation's building blocks for the store contract: one session, turns, exchanges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from adapters.system import RandomIds
from application.ports import NewMessage
from domain.model import Role, Session, SessionStatus, Turn

NOW = datetime(2026, 11, 27, 9, 0, 0, tzinfo=UTC)
IDLE = timedelta(hours=24)
LEASE = timedelta(seconds=45)
ids = RandomIds()


def open_session(
    repo: Any, session_id: str = "s-1", connection: str = "conn-A", customer: str | None = "c-1"
) -> Session:
    session = Session.open(session_id, customer, connection, NOW, IDLE)
    repo.add(session)
    return session


def user_turn(text: str, message_id: str, at: datetime = NOW) -> Turn:
    return Turn(ids.turn_id(at), Role.USER, text, len(text), at, message_id=message_id)


def reply_to(question: Turn, text: str = "an answer", at: datetime = NOW) -> Turn:
    return Turn(
        question.reply_id(), Role.ASSISTANT, text, 3, at, message_id=question.message_id, response_id="r-1"
    )


def record(
    repo: Any,
    turn: Turn,
    session_id: str = "s-1",
    connection: str = "conn-A",
    status: SessionStatus = SessionStatus.ACTIVE,
    now: datetime = NOW,
    context_turns: int = 20,
) -> Any:
    message = NewMessage(session_id, connection, turn, status, now, now + LEASE, now + IDLE)
    return repo.record_message(message, context_turns)


def exchange(repo: Any, text: str, message_id: str, at: datetime = NOW) -> tuple[Turn, Turn]:
    question = user_turn(text, message_id, at)
    assert record(repo, question, now=at).existing is None
    answer = reply_to(question, f"re: {text}", at)
    repo.complete_exchange("s-1", message_id, answer, at + IDLE)
    return question, answer


def same(stored: Any, expected: Any) -> bool:
    """Equal, and field by field of the same type: ``0 == False`` and ``Decimal(1) == 1`` hide bugs."""
    return stored == expected and all(
        type(getattr(stored, f.name)) is type(getattr(expected, f.name)) for f in attrs.fields(type(expected))
    )
