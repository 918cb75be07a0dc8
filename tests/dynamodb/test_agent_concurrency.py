"""Agents racing on a moto server over HTTP: ten agents claiming five waiting conversations at once,
each conversation ends up with exactly one holder and every other claim is refused (409, an error
frame); a reply sent three times at once is stored once and pushed once, from a console and from
the direct invocation alike."""

from __future__ import annotations

import random
import threading
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from dependency_injector import providers

from application.telemetry import HANDOFF_CLAIM_RACES
from entrypoints import handoff, message
from testing.aws import TABLE, partition_items
from testing.harness import Chat, agent_authorizer, message_event
from testing.telemetry import RecordingTelemetry
from tests.dynamodb.conftest import DYNAMODB_ENV, close

pytestmark = pytest.mark.moto_server

AGENTS = [f"agent-{n}" for n in range(10)]
CUSTOMERS = [f"cust-{n}" for n in range(5)]


@pytest.fixture
def chat(table: Any) -> Iterator[Chat]:
    """The handlers on the server's table (made by ``table``, which the tests read back with)."""
    assert table.describe_table(TableName=TABLE)["Table"]["TableStatus"] == "ACTIVE"
    chat = Chat(env={**DYNAMODB_ENV, "WEBSOCKET_CALLBACK_URL": "http://management-api.local"})
    yield chat
    close(chat)


def at_once(calls: list[Callable[[], int]]) -> list[int]:
    """Run every call on its own thread, all released together; their statuses in order."""
    start = threading.Barrier(len(calls))
    statuses: list[int] = [0] * len(calls)

    def run(index: int) -> None:
        start.wait()
        statuses[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)
    return statuses


def agent_frame(agent: str, body: dict[str, Any]) -> Callable[[], int]:
    event = message_event(f"console-{agent}", body, authorizer=agent_authorizer(agent))
    return lambda: int(message.handler(event, None)["statusCode"])


def waiting_sessions(chat: Chat) -> list[str]:
    sessions = []
    for customer in CUSTOMERS:
        connection = f"conn-{customer}"
        assert chat.connect(connection, customer) == 200
        assert chat.send(connection, {"action": "handoff", "reason": f"{customer} wants a human"}) == 200
        sessions.append(chat.session_of(connection)["session_id"])
    return sessions


def test_ten_agents_claiming_five_conversations_at_once_leave_one_holder_each(chat: Chat, table: Any) -> None:
    telemetry = RecordingTelemetry()
    chat.container.adapters.telemetry.override(providers.Object(telemetry))
    for agent in AGENTS:
        assert chat.connect(f"console-{agent}", authorizer=agent_authorizer(agent)) == 200
    sessions = waiting_sessions(chat)
    claims = [(agent, session_id) for agent in AGENTS for session_id in sessions]
    random.Random(15).shuffle(claims)

    statuses = at_once([agent_frame(a, {"action": "agent.claim", "session_id": s}) for a, s in claims])

    assert set(statuses) == {200, 409}
    won = [claim for claim, status in zip(claims, statuses, strict=True) if status == 200]
    assert sorted(s for _, s in won) == sorted(sessions)  # each conversation won exactly once
    for session_id in sessions:
        [holder] = [agent for agent, s in won if s == session_id]
        assert chat.repository.get(session_id).agent_id == holder
        items = partition_items(table, session_id)
        transitions = [i["transition"]["S"] for i in items if i["SK"]["S"].startswith("HANDOFF#")]
        assert transitions == ["waiting", "claimed"]
        claimed = [
            i for i in items if i["SK"]["S"].startswith("HANDOFF#") and i["transition"]["S"] == "claimed"
        ]
        assert claimed[0]["agent_id"]["S"] == holder
        turns = [i for i in items if i["SK"]["S"].startswith("TURN#")]
        [meta] = [i for i in items if i["SK"]["S"] == "META"]
        assert meta["turn_count"] == {"N": str(len(turns))} == {"N": "2"}  # the two announcements
        # The customer heard of one agent joining, the one who holds it.
        joined = [f for f in chat.frames(f"conn-{_customer_of(chat, session_id)}", "handoff")]
        assert [f["agent_id"] for f in joined if f.get("transition") == "claimed"] == [holder]
    for agent in AGENTS:  # every loser was told, with a conflict frame for each refused claim
        refused = sum(
            1 for (a, _), status in zip(claims, statuses, strict=True) if a == agent and status == 409
        )
        conflicts = [f for f in chat.frames(f"console-{agent}", "error") if f["code"] == "conflict"]
        assert len(conflicts) == refused
        assert len(chat.frames(f"console-{agent}", "claimed")) == len(claims) // len(AGENTS) - refused
    print(f"claims: {len(claims)}, won: {len(won)}, refused: {statuses.count(409)}, "
          f"transactions that lost a race: {telemetry.total(HANDOFF_CLAIM_RACES):.0f}")  # fmt: skip


def _customer_of(chat: Chat, session_id: str) -> str:
    customer: str | None = chat.repository.get(session_id).customer_id
    assert customer is not None
    return customer


def test_a_reply_sent_three_times_at_once_is_stored_once_and_pushed_once(chat: Chat, table: Any) -> None:
    assert chat.connect("console-agent-1", authorizer=agent_authorizer("agent-1")) == 200
    [session_id, *_] = waiting_sessions(chat)
    assert agent_frame("agent-1", {"action": "agent.claim", "session_id": session_id})() == 200
    customer = f"conn-{_customer_of(chat, session_id)}"
    before = len(chat.frames(customer, "message"))

    reply = {"action": "agent.reply", "session_id": session_id, "message": "On its way!", "reply_id": "r-1"}
    assert at_once([agent_frame("agent-1", reply)] * 3) == [200] * 3

    direct = {"action": "reply", "session_id": session_id, "agent_id": "agent-1", "message": "Anything else?"}
    invocations = [lambda: int(handoff.handler({**direct, "reply_id": "r-2"}, None)["statusCode"])] * 3
    assert at_once(invocations) == [200] * 3

    items = partition_items(table, session_id)
    said = [
        zlib.decompress(i["content_compressed"]["B"]).decode()
        for i in items
        if i["SK"]["S"].startswith("TURN#") and "agent_id" in i
    ]
    assert said == ["On its way!", "Anything else?"]
    assert sorted(i["SK"]["S"] for i in items if i["SK"]["S"].startswith("REPLY#")) == [
        "REPLY#r-1",
        "REPLY#r-2",
    ]
    [meta] = [i for i in items if i["SK"]["S"] == "META"]
    assert meta["turn_count"] == {"N": str(sum(1 for i in items if i["SK"]["S"].startswith("TURN#")))}
    pushed = [f["content"] for f in chat.frames(customer, "message")[before:]]
    assert pushed == ["On its way!", "Anything else?"]
    acknowledged = chat.frames("console-agent-1", "replied")
    assert sorted(f["repeat"] for f in acknowledged) == [False, True, True]
