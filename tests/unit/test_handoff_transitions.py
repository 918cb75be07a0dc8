"""A handoff's life on the session itself: waiting, claimed, transferred, released; every move
someone may not make is refused by the entity, before any store is asked."""

from datetime import timedelta

import pytest

from domain.errors import (
    HeldByAnotherAgent,
    IllegalTransition,
    InvalidInput,
    NotHandoffHolder,
    NotWaiting,
)
from domain.model import Session, SessionStatus
from testing.fakes import START

IDLE = timedelta(hours=24)
LATER = START + timedelta(minutes=5)


def waiting() -> Session:
    return Session.open("s-1", "cust-1", "conn-1", START, IDLE).hand_off(START, IDLE, reason="refund")


def test_a_customers_request_waits_in_the_queue_with_its_reason() -> None:
    session = waiting()
    assert session.status is SessionStatus.HANDOFF and session.waiting_for_agent
    assert session.handoff_reason == "refund" and session.waiting_since == START


def test_an_integration_may_hand_a_session_straight_to_an_agent() -> None:
    session = Session.open("s-1", "cust-1", "conn-1", START, IDLE).hand_off(START, IDLE, "agent-7", "console")
    assert session.held_by("agent-7") and session.agent_connection_id == "console"


def test_claim_takes_a_waiting_session_once() -> None:
    held = waiting().claim("agent-7", "console-7", LATER, IDLE)
    assert held.held_by("agent-7") and held.agent_connection_id == "console-7"
    with pytest.raises(HeldByAnotherAgent):
        held.claim("agent-8", "console-8", LATER, IDLE)
    with pytest.raises(NotWaiting):
        held.claim("agent-7", "console-7", LATER, IDLE)
    with pytest.raises(NotWaiting):
        Session.open("s-2", "cust-1", "conn-2", START, IDLE).claim("agent-7", None, LATER, IDLE)


def test_transfer_to_another_agent_or_back_to_the_queue() -> None:
    held = waiting().claim("agent-7", "console-7", LATER, IDLE)
    moved = held.transfer("agent-7", "agent-8", "console-8", LATER, IDLE)
    assert moved.held_by("agent-8") and moved.agent_connection_id == "console-8"
    requeued = moved.transfer("agent-8", None, None, LATER, IDLE)
    assert requeued.waiting_for_agent and requeued.waiting_since == LATER
    assert requeued.agent_connection_id is None


@pytest.mark.parametrize(
    ("mover", "target", "error"),
    [
        ("agent-7", "agent-7", InvalidInput),  # to oneself
        ("agent-8", "agent-9", NotHandoffHolder),  # not the holder
    ],
)
def test_transfer_is_refused_to_oneself_and_to_anyone_but_the_holder(
    mover: str, target: str, error: type[Exception]
) -> None:
    held = waiting().claim("agent-7", "console-7", LATER, IDLE)
    with pytest.raises(error):
        held.transfer(mover, target, None, LATER, IDLE)


def test_release_is_the_holders_and_clears_the_handoff() -> None:
    held = waiting().claim("agent-7", "console-7", LATER, IDLE)
    with pytest.raises(NotHandoffHolder):
        held.release_to_bot(LATER, IDLE, by_agent="agent-8")
    with pytest.raises(NotHandoffHolder):
        waiting().release_to_bot(LATER, IDLE, by_agent="agent-7")
    back = held.release_to_bot(LATER, IDLE, by_agent="agent-7")
    assert back.status is SessionStatus.ACTIVE
    assert (back.agent_id, back.handoff_reason, back.waiting_since) == (None, None, None)
    with pytest.raises(IllegalTransition):
        back.release_to_bot(LATER, IDLE, by_agent="agent-7")


def test_the_unclaimed_notice_is_given_once_per_wait() -> None:
    told = waiting().tell_unclaimed()
    with pytest.raises(IllegalTransition):
        told.tell_unclaimed()
    held = told.claim("agent-7", "c", LATER, IDLE)
    with pytest.raises(IllegalTransition):
        held.tell_unclaimed()
    assert not held.transfer("agent-7", None, None, LATER, IDLE).unclaimed_told
