"""The store contract, continued: what the asynchronous half asks of both stores (summaries,
transitions, agents' turns, handoff records, cleanup), and what the turn writer relies on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from attrs import evolve

from application.errors import ConcurrentUpdate
from domain.errors import SessionNotFound, UnexpectedStatus
from domain.model import Handoff, Role, SessionStatus, Summary, Turn
from tests.contract.conversation import (
    IDLE,
    NOW,
    exchange,
    ids,
    open_session,
    record,
    reply_to,
    same,
    user_turn,
)

LATER = NOW + timedelta(minutes=10)


def system_turn(text: str, at: Any = LATER) -> Turn:
    return Turn(ids.turn_id(at), Role.SYSTEM, text, 5, at)


def handoff(handoff_id: str = "h-1") -> Handoff:
    return Handoff(handoff_id, "s-1", "agent-7", "wants a refund", LATER)


def test_complete_exchange_says_whether_it_stored_the_reply(repo: Any) -> None:
    open_session(repo)
    question = user_turn("hello", "m-1")
    record(repo, question)
    answer = reply_to(question)
    assert repo.complete_exchange("s-1", "m-1", answer, NOW + IDLE) is True
    assert repo.complete_exchange("s-1", "m-1", answer, NOW + IDLE) is False


def test_a_summary_is_stored_once_and_the_latest_wins(repo: Any) -> None:
    open_session(repo)
    turns = [t for n in range(3) for t in exchange(repo, f"q{n}", f"m-{n}")]
    first = Summary("s-1", "first", turns[1].turn_id, 2, NOW)
    second = Summary("s-1", "second", turns[3].turn_id, 4, NOW)
    assert repo.latest_summary("s-1") is None
    assert repo.add_summary(second) is True
    assert repo.add_summary(first) is True
    assert repo.add_summary(evolve(first, text="again")) is False
    assert repo.latest_summary("s-1") == second


def test_turns_after_a_turn_oldest_first(repo: Any) -> None:
    open_session(repo)
    turns = [t for n in range(3) for t in exchange(repo, f"q{n}", f"m-{n}")]
    assert list(repo.turns_after("s-1", None, 2)) == turns[:2]
    assert list(repo.turns_after("s-1", turns[1].turn_id, 3)) == turns[2:5]
    assert list(repo.turns_after("s-1", turns[-1].turn_id, 3)) == []
    assert list(repo.turns_after("s-1", None, 100)) == turns


def test_a_transition_moves_the_state_and_records_everything_at_once(repo: Any) -> None:
    current = open_session(repo)
    updated = current.hand_off(LATER, IDLE, "agent-7", "agent-conn")
    announcement = system_turn("handed to a human")
    repo.record_transition(current, updated, announcement, handoff())
    stored = repo.get("s-1")
    assert same(stored, evolve(updated, turn_count=1))
    assert list(repo.history("s-1", 5)) == [announcement]
    assert list(repo.handoffs("s-1")) == [handoff()]
    assert repo.session_id_of_connection("conn-A") == "s-1"


def test_a_transition_without_a_handoff_record(repo: Any) -> None:
    current = open_session(repo)
    handed = current.hand_off(NOW, IDLE)
    repo.replace(current, handed)
    back = handed.release_to_bot(LATER, IDLE)
    repo.record_transition(handed, back, system_turn("back to the bot"))
    assert repo.get("s-1").status is SessionStatus.ACTIVE
    assert repo.get("s-1").turn_count == 1
    assert list(repo.handoffs("s-1")) == []


@pytest.mark.parametrize("conflict", ["state", "announcement", "handoff"])
def test_a_refused_transition_writes_nothing(repo: Any, conflict: str) -> None:
    current = open_session(repo)
    announcement = system_turn("handed to a human")
    if conflict == "state":
        repo.replace(current, current.resume("c-1", "conn-B", NOW, IDLE))
    elif conflict == "announcement":
        repo.add_turn("s-1", announcement, SessionStatus.ACTIVE, NOW + IDLE)
    else:
        repo.record_transition(current, current, system_turn("planted"), handoff())
    before = repo.get("s-1")
    with pytest.raises(ConcurrentUpdate):
        repo.record_transition(current, current.hand_off(LATER, IDLE, "agent-7"), announcement, handoff())
    assert repo.get("s-1") == before
    assert len(repo.handoffs("s-1")) == (1 if conflict == "handoff" else 0)


def test_a_transition_of_an_unknown_session(repo: Any) -> None:
    ghost = open_session(repo, session_id="s-ghost")
    repo.delete_session("s-ghost")
    with pytest.raises(SessionNotFound):
        repo.record_transition(ghost, ghost.hand_off(NOW, IDLE), system_turn("hello?"))


def test_an_agent_turn_is_stored_once_in_the_expected_state(repo: Any) -> None:
    current = open_session(repo)
    handed = current.hand_off(NOW, IDLE, "agent-7")
    repo.replace(current, handed)
    reply = Turn(
        ids.turn_id(LATER), Role.ASSISTANT, "Agent here", 2, LATER, response_id="r", agent_id="agent-7"
    )
    assert repo.add_turn("s-1", reply, SessionStatus.HANDOFF, LATER + IDLE) is True
    assert repo.add_turn("s-1", reply, SessionStatus.HANDOFF, LATER + IDLE) is False
    stored = repo.get("s-1")
    assert (stored.turn_count, stored.expires_at, stored.updated_at) == (1, LATER + IDLE, LATER)
    assert list(repo.history("s-1", 5)) == [reply]
    with pytest.raises(UnexpectedStatus) as raised:
        repo.add_turn("s-1", system_turn("x"), SessionStatus.ACTIVE, LATER + IDLE)
    assert raised.value.actual == SessionStatus.HANDOFF
    with pytest.raises(SessionNotFound):
        repo.add_turn("nobody", system_turn("x"), SessionStatus.HANDOFF, LATER + IDLE)


def test_deleting_a_session_leaves_nothing(repo: Any) -> None:
    current = open_session(repo)
    turns = [t for n in range(2) for t in exchange(repo, f"q{n}", f"m-{n}")]
    repo.add_summary(Summary("s-1", "so far", turns[-1].turn_id, 4, NOW))
    stored = repo.get("s-1")
    repo.record_transition(stored, stored.hand_off(LATER, IDLE), system_turn("handed"), handoff())
    # META, 5 turns, 2 message ids, 1 summary, 1 handoff
    assert repo.delete_session("s-1") == 10
    assert repo.get("s-1") is None
    assert list(repo.history("s-1", 10)) == []
    assert repo.message_record("s-1", "m-0") is None
    assert list(repo.handoffs("s-1")) == []
    assert repo.latest_summary("s-1") is None
    assert repo.session_id_of_connection(current.connection_id) is None
    assert repo.delete_session("s-1") == 0


def test_every_summary_oldest_first(repo: Any) -> None:
    open_session(repo)
    turns = [t for n in range(3) for t in exchange(repo, f"q{n}", f"m-{n}")]
    summaries = [Summary("s-1", f"after {n}", turns[n].turn_id, n + 1, NOW) for n in (3, 1, 5)]
    for summary in summaries:
        repo.add_summary(summary)
    assert list(repo.summaries("s-1")) == sorted(summaries, key=lambda s: s.last_turn_id)
    assert list(repo.summaries("nobody")) == []


def test_every_message_id_remembered_in_the_order_asked(repo: Any) -> None:
    open_session(repo)
    first, answer = exchange(repo, "hello", "m-b")
    pending = user_turn("and this?", "m-a")
    record(repo, pending)
    records = list(repo.message_records("s-1"))
    assert [(r.message_id, r.user_turn_id, r.reply) for r in records] == [
        ("m-b", first.turn_id, answer),
        ("m-a", pending.turn_id, None),
    ]
    assert records[1].lease_until is not None
    assert list(repo.message_records("nobody")) == []
