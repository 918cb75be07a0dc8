from collections.abc import Callable
from datetime import timedelta

import pytest

from domain.errors import IllegalTransition, SessionNotResumable
from domain.model import Role, Session, SessionStatus, Turn
from testing.fakes import START

IDLE = timedelta(hours=24)


def new_session(customer: str | None = "cust-1") -> Session:
    return Session.open("s-1", customer, "conn-1", START, IDLE)


def test_a_new_session_is_active_attached_and_expires_after_the_idle_time() -> None:
    session = new_session()
    assert session.status is SessionStatus.ACTIVE
    assert session.owned_by("conn-1") and not session.owned_by("conn-2")
    assert session.expires_at == START + IDLE
    assert not session.resumed


def test_resume_moves_the_session_refreshes_expiry_and_reactivates_it() -> None:
    later = START + timedelta(hours=3)
    session = new_session().disconnect(START, IDLE).resume("cust-1", "conn-2", later, IDLE)
    assert session.status is SessionStatus.ACTIVE
    assert session.connection_id == "conn-2" and session.resumed
    assert session.expires_at == later + IDLE


@pytest.mark.parametrize(
    ("customer", "requester", "state"),
    [
        ("cust-1", "cust-2", "active"),  # another customer's session
        (None, None, "active"),  # anonymous
        (None, "cust-1", "active"),  # anonymous, even when the requester names itself
        ("cust-1", "cust-1", "closed"),
        ("cust-1", "cust-1", "expired"),
    ],
)
def test_resume_refuses_whatever_this_customer_may_not_take(
    customer: str | None, requester: str | None, state: str
) -> None:
    session = new_session(customer)
    now = START
    if state == "closed":
        session = session.close(START)
    if state == "expired":
        now = START + IDLE
    with pytest.raises(SessionNotResumable):
        session.resume(requester, "conn-2", now, IDLE)


def test_a_handoff_outlives_the_socket_and_resumes_as_a_handoff() -> None:
    session = new_session().hand_off(START, IDLE).disconnect(START, IDLE)
    assert session.status is SessionStatus.HANDOFF and session.connection_id is None
    resumed = session.resume("cust-1", "conn-2", START, IDLE)
    assert resumed.status is SessionStatus.HANDOFF
    assert resumed.release_to_bot(START, IDLE).status is SessionStatus.ACTIVE


@pytest.mark.parametrize(
    "move",
    [
        lambda s: s.close(START).close(START),
        lambda s: s.close(START).disconnect(START, IDLE),
        lambda s: s.hand_off(START, IDLE).hand_off(START, IDLE),
        lambda s: s.release_to_bot(START, IDLE),
        lambda s: s.disconnect(START, IDLE).hand_off(START, IDLE),
    ],
)
def test_illegal_moves_are_refused(move: Callable[[Session], Session]) -> None:
    with pytest.raises(IllegalTransition):
        move(new_session())


def test_the_reply_id_sorts_right_after_its_question_and_before_the_next_one() -> None:
    first = Turn("0000000000000000001-aaaaaaaa", Role.USER, "q1", 1, START, message_id="m1")
    second = Turn("0000000000000000002-00000000", Role.USER, "q2", 1, START, message_id="m2")
    assert first.turn_id < first.reply_id() < second.turn_id


def test_a_turn_cannot_cost_negative_tokens() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        Turn("t", Role.USER, "x", -1, START)
