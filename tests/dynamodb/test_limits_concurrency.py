"""Many senders of one customer at once, each from its own connection: however the threads interleave,
at most the rate's limit of messages is accepted in a window, every accepted one is answered exactly
once, and a refused one leaves nothing behind. In memory, and on DynamoDB over HTTP (a moto server)
where the senders race on the customer's counter through real transactions."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from testing.fakes import ManualClock
from testing.harness import Chat
from tests.dynamodb.conftest import DYNAMODB_ENV, close

SENDERS = 12
LIMIT = 5
LIMITS = {"CUSTOMER_MESSAGES_PER_MINUTE": str(LIMIT), "CUSTOMER_DAILY_TOKENS": "0"}


@pytest.fixture(params=["memory", pytest.param("dynamodb", marks=pytest.mark.moto_server)])
def chat(request: pytest.FixtureRequest, clock: ManualClock) -> Iterator[Chat]:
    env = dict(LIMITS)
    if request.param == "dynamodb":
        request.getfixturevalue("table")
        env.update(DYNAMODB_ENV)
    system = Chat(env=env, clock=clock)  # the clock stands still: every message in one window
    yield system
    if request.param == "dynamodb":
        close(system)
    else:
        system.close()


def connections() -> list[str]:
    return [f"connRace{n:04d}=" for n in range(SENDERS)]


def test_concurrent_senders_of_one_customer_never_pass_the_rate_and_each_accepted_is_answered_once(
    chat: Chat, clock: ManualClock
) -> None:
    for connection in connections():
        assert chat.connect(connection, "cust-race") == 200
    statuses: dict[str, int] = {}
    start = threading.Barrier(SENDERS)

    def sender(connection: str) -> None:
        start.wait()
        statuses[connection] = chat.say(connection, f"question from {connection}", f"m-{connection}")

    threads = [threading.Thread(target=sender, args=(c,)) for c in connections()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    accepted = sorted(c for c, code in statuses.items() if code == 200)
    refused = sorted(c for c, code in statuses.items() if code == 429)
    assert len(accepted) == LIMIT and len(accepted) + len(refused) == SENDERS
    for connection in accepted:
        replies = chat.frames(connection, "message")
        assert [r["reply_to"] for r in replies] == [f"m-{connection}"]
        assert [role for role, _ in _stored(chat, connection)] == ["user", "assistant"]
    for connection in refused:
        assert chat.last(connection)["code"] == "rate_limited" and chat.frames(connection, "message") == []
        assert _stored(chat, connection) == []
    assert chat.llm.calls == LIMIT

    clock.advance(60)  # the next minute: a refused sender is let through, and answered once
    assert chat.say(refused[0], "again", f"m-{refused[0]}") == 200
    assert [r["reply_to"] for r in chat.frames(refused[0], "message")] == [f"m-{refused[0]}"]


def _stored(chat: Chat, connection: str) -> list[tuple[str, Any]]:
    session_id = chat.repository.session_id_of_connection(connection)
    return [(str(t.role), t.content) for t in chat.repository.history(session_id, 10)]
