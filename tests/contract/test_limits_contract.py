"""The limits' contract, both stores: a message over a limit is refused with nothing written, the
model's tokens are charged once with the reply, time lets messages through again, a stored reply is
always served, and a session answers one message at a time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from application.errors import ReplyInProgress
from application.ports import NewMessage, RecordedMessage
from domain.errors import LimitReached
from domain.limits import Limit, LimitCheck, LimitPolicy
from domain.model import SessionStatus, Turn
from tests.contract.conversation import IDLE, LEASE, NOW, open_session, reply_to, user_turn

RATE = LimitPolicy(messages_per_minute=2, customer_daily_tokens=0, daily_tokens=0)
BUDGET = LimitPolicy(messages_per_minute=0, customer_daily_tokens=100, daily_tokens=0)
EVERYONE = LimitPolicy(messages_per_minute=0, customer_daily_tokens=0, daily_tokens=100)


def send(
    repo: Any,
    text: str,
    message_id: str,
    policy: LimitPolicy,
    at: datetime = NOW,
    session_id: str = "s-1",
    connection: str = "conn-A",
    customer: str = "c-1",
    answering: bool = True,
) -> tuple[Turn, RecordedMessage, LimitCheck]:
    turn = user_turn(text, message_id, at)
    check = policy.check(customer, at, calls_model=answering)
    message = NewMessage(
        session_id,
        connection,
        turn,
        expected_status=SessionStatus.ACTIVE,
        now=at,
        lease_until=at + LEASE,
        expires_at=at + IDLE,
        limits=check,
        answering=answering,
    )
    return turn, repo.record_message(message, 20), check


def answer(repo: Any, turn: Turn, check: LimitCheck, tokens: int = 0, session_id: str = "s-1") -> bool:
    reply = reply_to(turn, f"re: {turn.content}", turn.created_at)
    charge = check.charge(tokens) if tokens else None
    return bool(
        repo.complete_exchange(session_id, turn.message_id, reply, turn.created_at + IDLE, charge, live=True)
    )


def refused_by(limit: Limit, call: Any) -> LimitReached:
    with pytest.raises(LimitReached) as refusal:
        call()
    assert refusal.value.limit == limit
    return refusal.value


def test_the_message_over_the_rate_is_refused_and_writes_nothing_until_the_next_minute(repo: Any) -> None:
    open_session(repo)
    for n in range(2):
        turn, recorded, check = send(repo, f"q{n}", f"m-{n}", RATE)
        assert recorded.existing is None
        answer(repo, turn, check)
    refusal = refused_by(Limit.MESSAGE_RATE, lambda: send(repo, "q2", "m-2", RATE))
    assert refusal.retry_after == 60  # NOW is on a minute's first second
    assert repo.message_record("s-1", "m-2") is None and repo.get("s-1").turn_count == 4

    turn, recorded, _ = send(repo, "q2", "m-2", RATE, at=NOW + timedelta(seconds=60))
    assert recorded.existing is None and repo.get("s-1").turn_count == 5


def test_the_rate_counts_a_customer_across_sessions_and_no_one_else(repo: Any) -> None:
    open_session(repo)
    open_session(repo, "s-2", "conn-B")
    open_session(repo, "s-3", "conn-C", customer="c-2")
    send(repo, "a", "m-1", RATE, answering=False)
    send(repo, "b", "m-2", RATE, session_id="s-2", connection="conn-B", answering=False)
    refused_by(
        Limit.MESSAGE_RATE,
        lambda: send(repo, "c", "m-3", RATE, session_id="s-2", connection="conn-B", answering=False),
    )
    _, recorded, _ = send(repo, "d", "m-4", RATE, session_id="s-3", connection="conn-C", customer="c-2")
    assert recorded.existing is None


def test_a_budget_spent_by_a_reply_refuses_the_next_message_until_the_next_utc_day(repo: Any) -> None:
    open_session(repo)
    turn, _, check = send(repo, "q1", "m-1", BUDGET)
    assert answer(repo, turn, check, tokens=60)
    turn, _, check = send(repo, "q2", "m-2", BUDGET)  # 60 of 100 spent: still below
    assert answer(repo, turn, check, tokens=60)
    refusal = refused_by(Limit.CUSTOMER_DAILY_TOKENS, lambda: send(repo, "q3", "m-3", BUDGET))
    assert refusal.retry_after == 15 * 3600  # NOW is 09:00 UTC
    assert repo.message_record("s-1", "m-3") is None

    tomorrow = NOW + timedelta(seconds=refusal.retry_after)
    _, recorded, _ = send(repo, "q3", "m-3", BUDGET, at=tomorrow)
    assert recorded.existing is None
    assert [(u.day, u.tokens, u.replies) for u in repo.customer_usage("c-1")] == [("2026-11-27", 120, 2)]


def test_a_reply_is_charged_once_however_often_its_write_is_repeated(repo: Any) -> None:
    open_session(repo)
    turn, _, check = send(repo, "q1", "m-1", BUDGET)
    reply = reply_to(turn, "re: q1", NOW)
    assert repo.complete_exchange("s-1", "m-1", reply, NOW + IDLE, check.charge(70), live=True) is True
    assert repo.complete_exchange("s-1", "m-1", reply, NOW + IDLE, check.charge(70)) is False
    assert [u.tokens for u in repo.customer_usage("c-1")] == [70]


def test_a_replay_of_an_answered_message_is_served_over_every_limit(repo: Any) -> None:
    both = LimitPolicy(messages_per_minute=1, customer_daily_tokens=10, daily_tokens=0)
    open_session(repo)
    turn, _, check = send(repo, "q1", "m-1", both)
    answer(repo, turn, check, tokens=50)  # over the budget, and the minute's one message is spent
    _, again, _ = send(repo, "q1", "m-1", both)
    assert again.existing is not None and again.existing.reply is not None
    assert again.existing.reply.content == "re: q1"


def test_an_unanswered_repeat_over_a_limit_is_refused_since_it_needs_the_model(repo: Any) -> None:
    open_session(repo)
    send(repo, "q1", "m-1", RATE)
    repo.release_message("s-1", "m-1")  # its model call failed
    send(repo, "q2", "m-2", RATE, answering=False)
    refused_by(Limit.MESSAGE_RATE, lambda: send(repo, "q1", "m-1", RATE))
    _, later, _ = send(repo, "q1", "m-1", RATE, at=NOW + timedelta(minutes=1))
    assert later.existing is not None and later.existing.reply is None  # the retry may answer it now


def test_everyones_budget_refuses_every_customer_and_serves_stored_replies(repo: Any) -> None:
    open_session(repo)
    open_session(repo, "s-2", "conn-B", customer="c-2")
    turn, first, check = send(repo, "q1", "m-1", EVERYONE)
    assert first.budget_spent == 0
    assert answer(repo, turn, check, tokens=100)
    refusal = refused_by(
        Limit.DAILY_TOKENS,
        lambda: send(repo, "hi", "m-2", EVERYONE, session_id="s-2", connection="conn-B", customer="c-2"),
    )
    assert refusal.retry_after == 15 * 3600
    assert repo.message_record("s-2", "m-2") is None
    _, again, _ = send(repo, "q1", "m-1", EVERYONE)
    assert again.existing is not None and again.existing.reply is not None
    assert repo.all_customers_tokens("2026-11-27") == 100
    _, tomorrow, _ = send(repo, "hi", "m-2", EVERYONE, NOW + timedelta(hours=15), "s-2", "conn-B", "c-2")
    assert tomorrow.existing is None and tomorrow.budget_spent == 0


def test_a_forwarded_message_binds_the_rate_only(repo: Any) -> None:
    strict = LimitPolicy(messages_per_minute=5, customer_daily_tokens=1, daily_tokens=1000)
    open_session(repo)
    turn, _, check = send(repo, "q1", "m-1", strict)
    answer(repo, turn, check, tokens=10)
    refused_by(Limit.CUSTOMER_DAILY_TOKENS, lambda: send(repo, "q2", "m-2", strict))
    _, recorded, _ = send(repo, "q2", "m-2", strict, answering=False)  # as for a human agent
    assert recorded.existing is None


# --- one answer at a time per session ----------------------------------------------------------------


def test_a_session_answers_one_message_at_a_time(repo: Any) -> None:
    open_session(repo)
    policy = LimitPolicy(0, 0, 0)
    first, _, check = send(repo, "q1", "m-1", policy)
    with pytest.raises(ReplyInProgress):
        send(repo, "q2", "m-2", policy)
    assert repo.message_record("s-1", "m-2") is None and repo.get("s-1").turn_count == 1
    answer(repo, first, check)
    _, recorded, _ = send(repo, "q2", "m-2", policy)
    assert recorded.existing is None


def test_a_released_or_lapsed_answer_frees_the_sessions_turn(repo: Any) -> None:
    open_session(repo)
    policy = LimitPolicy(0, 0, 0)
    send(repo, "q1", "m-1", policy)
    repo.release_message("s-1", "m-1")
    repo.end_turn("s-1", "m-1")  # its model call failed
    send(repo, "q2", "m-2", policy)  # the model never answered m-2 and its invocation died:
    repo.end_turn("s-1", "m-1")  # (a late word from another message ends nothing of m-2's)
    with pytest.raises(ReplyInProgress):
        send(repo, "q3", "m-3", policy, at=NOW + LEASE - timedelta(seconds=1))
    _, recorded, _ = send(repo, "q3", "m-3", policy, at=NOW + LEASE)  # its lease has run out
    assert recorded.existing is None


def test_a_stored_reply_is_served_while_another_message_is_being_answered(repo: Any) -> None:
    open_session(repo)
    policy = LimitPolicy(0, 0, 0)
    first, _, check = send(repo, "q1", "m-1", policy)
    answer(repo, first, check)
    send(repo, "q2", "m-2", policy)  # being answered
    _, again, _ = send(repo, "q1", "m-1", policy)
    assert again.existing is not None and again.existing.reply is not None


def test_taking_over_an_unanswered_message_waits_for_the_sessions_turn(repo: Any) -> None:
    open_session(repo)
    policy = LimitPolicy(0, 0, 0)
    send(repo, "q1", "m-1", policy)
    repo.release_message("s-1", "m-1")  # failed: a retry may take it over
    repo.end_turn("s-1", "m-1")
    second, _, check = send(repo, "q2", "m-2", policy)
    with pytest.raises(ReplyInProgress):
        repo.claim_message("s-1", "m-1", NOW, NOW + LEASE)
    answer(repo, second, check)
    assert repo.claim_message("s-1", "m-1", NOW, NOW + LEASE) is True
    with pytest.raises(ReplyInProgress):
        send(repo, "q3", "m-3", policy)  # m-1's retry holds the turn now


def test_a_forwarded_message_never_takes_the_sessions_turn(repo: Any) -> None:
    open_session(repo)
    policy = LimitPolicy(0, 0, 0)
    send(repo, "q1", "m-1", policy, answering=False)
    repo.release_message("s-1", "m-1")
    _, recorded, _ = send(repo, "q2", "m-2", policy)
    assert recorded.existing is None


def test_usage_reads_give_each_customer_day(repo: Any) -> None:
    open_session(repo)
    open_session(repo, "s-2", "conn-B", customer="c-2")
    policy = LimitPolicy(0, 0, 0)
    for day, (session, connection, customer, tokens) in enumerate(
        [("s-1", "conn-A", "c-1", 30), ("s-2", "conn-B", "c-2", 70), ("s-1", "conn-A", "c-1", 5)]
    ):
        at = NOW + timedelta(hours=16 * (day // 2))  # the third on the next UTC day
        turn, _, check = send(repo, f"q{day}", f"m-{day}", policy, at, session, connection, customer)
        answer(repo, turn, check, tokens=tokens, session_id=session)
    assert [(u.day, u.tokens, u.replies) for u in repo.customer_usage("c-1")] == [
        ("2026-11-27", 30, 1),
        ("2026-11-28", 5, 1),
    ]
    assert sorted((u.customer, u.tokens) for u in repo.usage_of_day("2026-11-27")) == [
        ("c-1", 30),
        ("c-2", 70),
    ]
    assert repo.customer_usage("nobody") == []
