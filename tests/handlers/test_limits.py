"""Limits that protect the bill, through the handlers: a refused message is a 429 ``rate_limited``
frame with ``retry_after``, writes nothing and calls no model; time (an injected clock) lets it
through again; a stored reply is always served; an agent is never limited."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from dependency_injector import providers

from application import telemetry as metric
from application.replay import Replayed
from entrypoints import handoff
from testing.fakes import ManualClock
from testing.harness import Chat
from testing.telemetry import RecordingTelemetry

CONN, OTHER = "connLimit001=", "connLimit002="
LATE_EVENING = datetime(2026, 12, 1, 23, 40, 10, tzinfo=UTC)


def limited(clock: ManualClock, **limits: int) -> Chat:
    env = {name.upper(): str(value) for name, value in limits.items()}
    chat = Chat(env=env, clock=clock)
    chat.container.adapters.telemetry.override(providers.Object(RecordingTelemetry()))
    return chat


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=LATE_EVENING)


@pytest.fixture
def rate_chat(clock: ManualClock) -> Iterator[Chat]:
    chat = limited(clock, customer_messages_per_minute=3, customer_daily_tokens=0)
    yield chat
    chat.close()


def stored_turns(chat: Chat, connection_id: str) -> list[tuple[str, str]]:
    session_id = chat.repository.session_id_of_connection(connection_id)
    return [(str(t.role), t.content) for t in chat.repository.history(session_id, 100)]


def refusals(chat: Chat) -> list[dict[str, str]]:
    telemetry: Any = chat.container.adapters.telemetry()
    return list(telemetry.dimensions.get(metric.MESSAGES_REFUSED_BY_LIMIT, []))


def test_the_message_over_the_rate_is_refused_writes_nothing_and_the_next_minute_accepts(
    rate_chat: Chat, clock: ManualClock
) -> None:
    chat = rate_chat
    assert chat.connect(CONN, "cust-1") == 200
    for n in range(3):
        assert chat.say(CONN, f"question {n}", f"m-{n}") == 200
    before = stored_turns(chat, CONN)

    assert chat.say(CONN, "one too many", "m-3") == 429
    refusal = chat.last(CONN)
    assert refusal["type"] == "error" and refusal["code"] == "rate_limited"
    assert refusal["limit"] == "message_rate" and refusal["retry_after"] == 50  # 23:40:10 -> 23:41:00
    assert "too fast" in refusal["message"]
    assert stored_turns(chat, CONN) == before and chat.llm.calls == 3
    assert chat.repository.message_record(chat.repository.session_id_of_connection(CONN), "m-3") is None
    assert refusals(chat) == [{"limit": "message_rate"}]

    clock.advance(50)
    assert chat.say(CONN, "one too many", "m-3") == 200
    assert chat.last(CONN)["type"] == "message" and chat.last(CONN)["reply_to"] == "m-3"


def test_the_rate_is_the_customers_across_sessions_not_the_sessions(rate_chat: Chat) -> None:
    chat = rate_chat
    assert chat.connect(CONN, "cust-1") == 200 and chat.connect(OTHER, "cust-1") == 200
    assert chat.connect("connLimit003=", "cust-2") == 200
    assert [chat.say(CONN, "a"), chat.say(OTHER, "b"), chat.say(CONN, "c")] == [200, 200, 200]
    assert chat.say(OTHER, "d") == 429
    assert chat.say("connLimit003=", "someone else") == 200


def test_a_replay_of_an_answered_message_is_served_over_the_rate(rate_chat: Chat) -> None:
    chat = rate_chat
    assert chat.connect(CONN, "cust-1") == 200
    for n in range(3):
        assert chat.say(CONN, f"question {n}", f"m-{n}") == 200
    first_reply = chat.frames(CONN, "message")[0]
    assert chat.say(CONN, "question 0", "m-0") == 200  # over the rate, and served all the same
    assert chat.last(CONN) == first_reply
    assert chat.llm.calls == 3 and len(stored_turns(chat, CONN)) == 6


def test_a_daily_budget_reached_mid_conversation_refuses_the_next_message_until_the_next_utc_day(
    clock: ManualClock,
) -> None:
    chat = limited(clock, customer_messages_per_minute=0, customer_daily_tokens=300)
    try:
        assert chat.connect(CONN, "cust-1") == 200
        spent, n = 0, 0
        while spent < 300:  # each reply is charged the model's own count, input and output
            assert chat.say(CONN, f"Is volume {n} in stock?", f"m-{n}") == 200
            reply = chat.frames(CONN, "message")[-1]["content"]
            spent += chat.llm.input_tokens(chat.llm.prompts[-1]) + len(reply.split(" "))
            n += 1
        assert n >= 2  # reached mid-conversation, not by the first message
        calls = chat.llm.calls

        assert chat.say(CONN, "and volume 99?", "m-over") == 429
        refusal = chat.last(CONN)
        assert (refusal["code"], refusal["limit"]) == ("rate_limited", "customer_daily_tokens")
        assert refusal["retry_after"] == 19 * 60 + 50  # from 23:40:10 until 00:00 UTC
        assert "00:00 UTC" in refusal["message"] and chat.llm.calls == calls
        assert chat.say(CONN, "Is volume 0 in stock?", "m-0") == 200  # a stored reply is still served

        clock.advance(refusal["retry_after"])  # a new UTC day
        assert chat.say(CONN, "and volume 99?", "m-over") == 200
        assert chat.last(CONN)["type"] == "message" and chat.llm.calls == calls + 1
    finally:
        chat.close()


def test_every_customers_budget_refuses_everyone_and_its_use_is_reported(clock: ManualClock) -> None:
    chat = limited(clock, customer_messages_per_minute=0, customer_daily_tokens=0, daily_tokens=150)
    try:
        assert chat.connect(CONN, "cust-1") == 200 and chat.connect(OTHER, "cust-2") == 200
        assert chat.say(CONN, "Is volume 1 in stock?", "m-1") == 200
        assert chat.say(CONN, "Is volume 2 in stock?", "m-2") == 200
        assert chat.say(OTHER, "hello", "m-3") == 429
        assert chat.last(OTHER)["limit"] == "daily_tokens"
        assert "the assistant's limit for today" in chat.last(OTHER)["message"]
        telemetry: Any = chat.container.adapters.telemetry()
        used = telemetry.values[metric.DAILY_BUDGET_USED_PERCENT]
        assert used[0] == 0 and used[-1] >= 100  # what the 80% alarm watches
    finally:
        chat.close()


def test_a_message_for_a_human_agent_counts_toward_the_rate_only_and_an_agent_is_never_limited(
    clock: ManualClock,
) -> None:
    chat = limited(clock, customer_messages_per_minute=3, customer_daily_tokens=1)
    try:
        chat.container.config.set("websocket_callback_url", "http://management-api.local")
        assert chat.connect(CONN, "cust-1") == 200
        assert chat.say(CONN, "hello", "m-0") == 200  # the budget binds from the next one
        assert chat.say(CONN, "hello again", "m-1") == 429
        assert chat.last(CONN)["limit"] == "customer_daily_tokens"
        session_id = chat.repository.session_id_of_connection(CONN)
        started = handoff.handler({"action": "start", "session_id": session_id, "agent_id": "agent-1"}, None)
        assert started["statusCode"] == 200
        assert chat.say(CONN, "I need a person", "m-2") == 200  # forwarded: no tokens spent
        assert chat.say(CONN, "are you there?", "m-3") == 200
        assert chat.say(CONN, "hello??", "m-4") == 429  # the third message of the minute after m-0
        assert chat.last(CONN)["limit"] == "message_rate"
        for n in range(5):  # an agent's replies are never limited
            reply = {
                "action": "reply",
                "session_id": session_id,
                "agent_id": "agent-1",
                "message": f"hi {n}",
                "reply_id": f"r-{n}",
            }
            assert handoff.handler(reply, None)["statusCode"] == 200
    finally:
        chat.close()


def test_one_reply_at_a_time_per_session_a_second_message_meanwhile_is_a_clear_conflict(
    clock: ManualClock,
) -> None:
    chat = limited(clock, customer_messages_per_minute=0, customer_daily_tokens=0)
    try:
        assert chat.connect(CONN, "cust-1") == 200
        statuses: list[int] = []
        inner = chat.llm

        class Interrupting:
            """While the first reply streams, the customer sends another message."""

            def stream_reply(self, prompt: Any) -> Any:
                for n, event in enumerate(inner.stream_reply(prompt)):
                    if n == 1 and not statuses:
                        statuses.append(chat.say(CONN, "and another thing", "m-2"))
                    yield event

            def complete(self, prompt: Any) -> Any:
                return inner.complete(prompt)

        chat.container.adapters.llm.override(providers.Object(Interrupting()))
        assert chat.say(CONN, "first question", "m-1") == 200
        assert statuses == [409]
        conflict = [f for f in chat.frames(CONN, "error") if f["code"] == "conflict"]
        assert conflict and "still" in conflict[0]["message"]
        stored = stored_turns(chat, CONN)
        assert [role for role, _ in stored] == ["user", "assistant"] and stored[0][1] == "first question"
        assert inner.calls == 1  # the refused one wrote nothing and called nothing

        assert chat.say(CONN, "and another thing", "m-2") == 200  # its turn now
        assert chat.last(CONN)["reply_to"] == "m-2"
    finally:
        chat.close()


def test_a_failed_reply_frees_the_sessions_turn_at_once(clock: ManualClock) -> None:
    from application.errors import ModelUnavailable

    chat = limited(clock, customer_messages_per_minute=0, customer_daily_tokens=0)
    try:
        assert chat.connect(CONN, "cust-1") == 200
        chat.llm.fail_next(ModelUnavailable("throttled"), after_deltas=2)
        assert chat.say(CONN, "first", "m-1") == 503
        assert chat.say(CONN, "second", "m-2") == 200  # not held up by the failed one
        assert chat.say(CONN, "first", "m-1") == 200  # and the failed one's retry is answered
        assert [f["reply_to"] for f in chat.frames(CONN, "message")] == ["m-2", "m-1"]
    finally:
        chat.close()


def test_limit_refusals_are_counted_by_limit(rate_chat: Chat) -> None:
    chat = rate_chat
    assert chat.connect(CONN, "cust-1") == 200
    for n in range(5):
        chat.say(CONN, f"q {n}", f"m-{n}")
    assert refusals(chat) == [{"limit": "message_rate"}] * 2  # the clock never moved: one window


def test_a_reply_queued_for_the_turn_writer_charges_its_customer_once_when_replayed(
    clock: ManualClock,
) -> None:
    from testing.fakes import FlakyRepository, ListRetryQueue

    chat = limited(clock, customer_messages_per_minute=0, customer_daily_tokens=10_000, daily_tokens=10**9)
    try:
        repo = chat.repository
        flaky, queue = FlakyRepository(repo), ListRetryQueue()
        chat.container.adapters.repository.override(providers.Object(flaky))
        chat.container.adapters.retry_queue.override(providers.Object(queue))
        assert chat.connect(CONN, "cust-1") == 200
        flaky.fail("complete_exchange")
        assert chat.say(CONN, "Is volume 3 in stock?", "m-1") == 200
        (write,) = queue.items
        assert write.charge is not None and write.charge.customer == "cust-1" and write.charge.tokens > 0
        assert repo.customer_usage("cust-1") == []  # the reply's write failed: nothing charged yet

        replay = chat.container.use_cases.replay_write()
        assert replay(write) is Replayed.STORED and replay(write) is Replayed.ALREADY_STORED
        assert [(u.tokens, u.replies) for u in repo.customer_usage("cust-1")] == [(write.charge.tokens, 1)]
        assert repo.all_customers_tokens(write.charge.day) == 0  # a replay never counts for everyone
    finally:
        chat.close()
