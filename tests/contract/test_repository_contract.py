"""One suite, both session stores: every port method, every conditional failure, idempotent repeats,
ordering, expiry and leases (``repo`` is parametrized in conftest.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from attrs import evolve

from application.errors import ConcurrentUpdate
from domain.errors import NotSessionOwner, SessionNotFound, UnexpectedStatus
from domain.model import Session, SessionStatus
from tests.contract.conversation import (
    IDLE,
    LEASE,
    NOW,
    exchange,
    open_session,
    record,
    reply_to,
    same,
    user_turn,
)

# --- sessions --------------------------------------------------------------------------------------


def test_a_new_session_reads_back_as_written(repo: Any) -> None:
    session = open_session(repo)
    assert same(repo.get("s-1"), session)
    assert repo.get("unknown") is None


def test_an_anonymous_session_reads_back_as_written(repo: Any) -> None:
    session = open_session(repo, customer=None)
    assert repo.get("s-1") == session


def test_a_session_id_is_taken_once(repo: Any) -> None:
    open_session(repo)
    with pytest.raises(ConcurrentUpdate):
        open_session(repo, connection="conn-B")


def test_a_new_session_starts_with_no_turns(repo: Any) -> None:
    session = Session.open("s-1", "c-1", "conn-A", NOW, IDLE)
    repo.add(evolve(session, turn_count=7))
    assert repo.get("s-1").turn_count == 0


def test_the_connection_finds_its_session(repo: Any) -> None:
    open_session(repo)
    assert repo.session_id_of_connection("conn-A") == "s-1"
    assert repo.session_id_of_connection("conn-unknown") is None


def test_a_resumed_session_leaves_its_old_connection(repo: Any) -> None:
    current = open_session(repo)
    moved = current.resume("c-1", "conn-B", NOW + timedelta(minutes=1), IDLE)
    repo.replace(current, moved)
    assert same(repo.get("s-1"), moved)
    assert repo.session_id_of_connection("conn-B") == "s-1"
    assert repo.session_id_of_connection("conn-A") is None


def test_a_disconnected_session_has_no_connection(repo: Any) -> None:
    current = open_session(repo)
    gone = current.disconnect(NOW, IDLE)
    repo.replace(current, gone)
    assert repo.get("s-1").connection_id is None
    assert repo.get("s-1").status is SessionStatus.DISCONNECTED
    assert repo.session_id_of_connection("conn-A") is None
    back = gone.resume("c-1", "conn-C", NOW, IDLE)
    repo.replace(gone, back)
    assert repo.session_id_of_connection("conn-C") == "s-1"


def test_replace_refuses_a_session_that_changed_meanwhile(repo: Any) -> None:
    current = open_session(repo)
    repo.replace(current, current.resume("c-1", "conn-B", NOW, IDLE))
    with pytest.raises(ConcurrentUpdate):
        repo.replace(current, current.hand_off(NOW, IDLE))  # stale: connection moved
    stale_status = evolve(repo.get("s-1"), status=SessionStatus.HANDOFF)
    with pytest.raises(ConcurrentUpdate):
        repo.replace(stale_status, stale_status.release_to_bot(NOW, IDLE))


def test_replace_of_an_unknown_session(repo: Any) -> None:
    ghost = Session.open("ghost", "c-1", "conn-A", NOW, IDLE)
    with pytest.raises(SessionNotFound):
        repo.replace(ghost, ghost.hand_off(NOW, IDLE))


def test_replace_never_changes_the_turn_count(repo: Any) -> None:
    current = open_session(repo)
    exchange(repo, "hello", "m-1")
    stored = repo.get("s-1")
    assert stored.turn_count == 2
    repo.replace(stored, evolve(stored.hand_off(NOW, IDLE), turn_count=0))
    assert repo.get("s-1").turn_count == 2
    assert repo.get("s-1").status is SessionStatus.HANDOFF
    assert current.turn_count == 0


# --- recording a message ---------------------------------------------------------------------------


def test_a_new_message_is_stored_counted_and_keeps_the_session_alive(repo: Any) -> None:
    open_session(repo)
    later = NOW + timedelta(minutes=5)
    question = user_turn("where is my order?", "m-1", later)
    recorded = record(repo, question, now=later)
    assert recorded.existing is None
    assert list(recorded.context.turns) == []
    session = repo.get("s-1")
    assert session.turn_count == 1
    assert session.expires_at == later + IDLE
    assert session.updated_at == later
    assert list(repo.history("s-1", 10)) == [question] and same(repo.history("s-1", 1)[0], question)
    known = repo.message_record("s-1", "m-1")
    assert (known.user_turn_id, known.reply, known.lease_until) == (question.turn_id, None, later + LEASE)


def test_the_context_holds_the_turns_before_the_new_one(repo: Any) -> None:
    open_session(repo)
    first, answer = exchange(repo, "hello", "m-1")
    recorded = record(repo, user_turn("and now?", "m-2"))
    assert list(recorded.context.turns) == [first, answer]
    assert recorded.context.summary is None


def test_an_unknown_session_records_nothing(repo: Any) -> None:
    with pytest.raises(SessionNotFound):
        record(repo, user_turn("hi", "m-1"), session_id="nobody")


def test_an_expired_session_records_nothing(repo: Any) -> None:
    open_session(repo)
    with pytest.raises(SessionNotFound):
        record(repo, user_turn("hi", "m-1"), now=NOW + IDLE)
    assert repo.get("s-1").turn_count == 0
    assert repo.message_record("s-1", "m-1") is None


def test_another_connection_records_nothing(repo: Any) -> None:
    open_session(repo)
    with pytest.raises(NotSessionOwner):
        record(repo, user_turn("hi", "m-1"), connection="conn-B")
    assert list(repo.history("s-1", 10)) == []


def test_a_session_in_another_state_says_which(repo: Any) -> None:
    current = open_session(repo)
    repo.replace(current, current.hand_off(NOW, IDLE))
    with pytest.raises(UnexpectedStatus) as raised:
        record(repo, user_turn("hi", "m-1"))
    assert raised.value.actual == SessionStatus.HANDOFF
    assert record(repo, user_turn("hi", "m-1"), status=SessionStatus.HANDOFF).existing is None


def test_expiry_is_judged_before_ownership_and_ownership_before_state(repo: Any) -> None:
    current = open_session(repo)
    repo.replace(current, current.hand_off(NOW, IDLE))
    with pytest.raises(SessionNotFound):
        record(repo, user_turn("hi", "m-1"), connection="conn-B", now=NOW + IDLE)
    with pytest.raises(NotSessionOwner):
        record(repo, user_turn("hi", "m-1"), connection="conn-B")


def test_a_repeated_message_id_stores_nothing_and_returns_its_record(repo: Any) -> None:
    open_session(repo)
    first = user_turn("hi", "m-1")
    record(repo, first)
    again = record(repo, user_turn("hi", "m-1", NOW + timedelta(seconds=1)), now=NOW + timedelta(seconds=1))
    assert again.existing is not None
    assert again.existing.user_turn_id == first.turn_id
    assert again.existing.reply is None
    assert again.existing.lease_until == NOW + LEASE
    assert repo.get("s-1").turn_count == 1
    assert list(repo.history("s-1", 10)) == [first]
    assert [t.turn_id for t in again.context.turns] == [first.turn_id]


def test_a_repeat_of_an_answered_message_returns_the_reply(repo: Any) -> None:
    open_session(repo)
    _, answer = exchange(repo, "hello", "m-1")
    again = record(repo, user_turn("hello", "m-1"))
    assert again.existing is not None and again.existing.reply == answer
    assert repo.get("s-1").turn_count == 2


def test_a_repeat_from_a_stranger_is_refused_before_anything_is_told(repo: Any) -> None:
    open_session(repo)
    exchange(repo, "hello", "m-1")
    with pytest.raises(NotSessionOwner):
        record(repo, user_turn("hello", "m-1"), connection="conn-B")


def test_turns_made_in_the_same_instant_keep_their_order(repo: Any) -> None:
    open_session(repo)
    first = user_turn("one", "m-1")
    second = user_turn("two", "m-2")
    record(repo, first)
    record(repo, second)
    repo.complete_exchange("s-1", "m-2", reply_to(second, "second answer"), NOW + IDLE)
    repo.complete_exchange("s-1", "m-1", reply_to(first, "first answer"), NOW + IDLE)
    history = repo.history("s-1", 10)
    assert [t.content for t in history] == ["one", "first answer", "two", "second answer"]
    assert repo.get("s-1").turn_count == 4


# --- completing an exchange ------------------------------------------------------------------------


def test_a_reply_is_stored_once_however_often_it_is_written(repo: Any) -> None:
    open_session(repo)
    question = user_turn("hello", "m-1")
    record(repo, question)
    answer = reply_to(question, "ようこそ — welcome!")
    for _ in range(3):
        repo.complete_exchange("s-1", "m-1", answer, NOW + IDLE)
    assert list(repo.history("s-1", 10)) == [question, answer]
    assert repo.get("s-1").turn_count == 2
    known = repo.message_record("s-1", "m-1")
    assert known.reply == answer and known.lease_until is None


def test_a_reply_for_an_unknown_session_or_message(repo: Any) -> None:
    open_session(repo)
    question = user_turn("hello", "m-1")
    with pytest.raises(SessionNotFound):
        repo.complete_exchange("nobody", "m-1", reply_to(question), NOW + IDLE)
    with pytest.raises(SessionNotFound):
        repo.complete_exchange("s-1", "m-unknown", reply_to(question), NOW + IDLE)
    assert repo.get("s-1").turn_count == 0


def test_the_expiry_only_ever_moves_forward(repo: Any) -> None:
    open_session(repo)
    later = NOW + timedelta(hours=2)
    question = user_turn("hello", "m-1", later)
    record(repo, question, now=later)
    old_reply = reply_to(question, "late write", NOW + timedelta(hours=1))
    repo.complete_exchange("s-1", "m-1", old_reply, NOW + timedelta(hours=1) + IDLE)
    session = repo.get("s-1")
    assert session.expires_at == later + IDLE
    assert session.updated_at == later
    assert session.turn_count == 2
    exchange(repo, "again", "m-2", NOW + timedelta(hours=3))
    assert repo.get("s-1").expires_at == NOW + timedelta(hours=3) + IDLE


# --- leases ----------------------------------------------------------------------------------------


def test_a_lease_is_held_until_it_ends_or_is_released(repo: Any) -> None:
    open_session(repo)
    record(repo, user_turn("hello", "m-1"))
    assert repo.claim_message("s-1", "m-1", NOW + timedelta(seconds=10), NOW + timedelta(seconds=55)) is False
    assert repo.claim_message("s-1", "m-1", NOW + LEASE, NOW + LEASE * 2) is True
    assert repo.message_record("s-1", "m-1").lease_until == NOW + LEASE * 2
    repo.release_message("s-1", "m-1")
    assert repo.message_record("s-1", "m-1").lease_until is None
    assert repo.claim_message("s-1", "m-1", NOW, NOW + LEASE) is True


def test_an_answered_or_unknown_message_cannot_be_claimed(repo: Any) -> None:
    open_session(repo)
    exchange(repo, "hello", "m-1")
    later = NOW + timedelta(hours=1)
    assert repo.claim_message("s-1", "m-1", later, later + LEASE) is False
    assert repo.claim_message("s-1", "m-unknown", later, later + LEASE) is False
    repo.release_message("s-1", "m-1")
    repo.release_message("s-1", "m-unknown")
    assert repo.message_record("s-1", "m-unknown") is None
    assert repo.message_record("s-1", "m-1").reply is not None
