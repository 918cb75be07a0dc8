"""The agent console's direct invocations of ``handoff`` with any payload: never a 5xx; a refusal
carries a protocol code that goes with its status and changes nothing; an accepted start, reply or
release does exactly its one thing to the session it names, and never to another."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st

from entrypoints import handoff
from tests.adversarial.frame_checks import Neighbour
from tests.adversarial.ledger import LEDGER
from tests.adversarial.oracle import CLIENT_STATUSES, STATUS_OF, snapshot
from tests.adversarial.profile import examples
from tests.adversarial.strategies import OWN, UNKNOWN, json_values, text
from tests.adversarial.systems import StrictChat, fresh_id, memory_chat

CALLBACK = {"WEBSOCKET_CALLBACK_URL": "https://abc123.execute-api.us-east-1.amazonaws.com/prod"}
ids = st.one_of(st.sampled_from(["agent-7", "agent-8"]), text, json_values)
payloads = st.one_of(
    st.sampled_from([None, [], "start", 7, True]),
    st.fixed_dictionaries(
        {"session_id": st.one_of(st.just(OWN), st.just(OWN), st.just(UNKNOWN), text, json_values)},
        optional={
            "action": st.one_of(
                st.sampled_from(["start", "claim", "reply", "transfer", "release"]), text, json_values
            ),
            "agent_id": ids,
            "reason": st.one_of(text, st.just("r" * 501), json_values),
            "message": st.one_of(
                st.just("Your refund is on its way."), text, st.just("m" * 16_001), json_values
            ),
            "agent_connection_id": st.one_of(st.just("agentConsole01="), text, json_values),
            "reply_id": st.one_of(st.just("reply-1"), text, json_values),
        },
    ),
    st.builds(
        lambda action, agent, reply_id: {
            "action": action,
            "session_id": OWN,
            "agent_id": agent,
            "message": "Hello!",
            "reply_id": reply_id,
        },
        st.sampled_from(["start", "claim", "reply", "transfer", "release"]),
        st.sampled_from(["agent-7", "agent-8"]),
        st.sampled_from(["reply-1", "reply-2"]),
    ),
)


@pytest.fixture
def system() -> Iterator[tuple[StrictChat, Neighbour]]:
    with memory_chat(env=CALLBACK) as chat:
        yield chat, Neighbour.open(chat)


@examples(200)
@given(calls=st.lists(payloads, min_size=1, max_size=4))
@example(calls=[{"session_id": OWN, "agent_id": "agent-7", "reason": "\ud800"}])  # was a 500
@example(
    calls=[
        {"session_id": OWN, "agent_id": "a"},
        {"action": "reply", "session_id": OWN, "agent_id": "a", "message": "\udfff"},
    ]
)
def test_any_handoff_invocation(system: tuple[StrictChat, Neighbour], calls: list[Any]) -> None:
    chat, neighbour = system
    repo = chat.repository
    LEDGER.example("handoff direct invocations")
    connection_id = fresh_id("handoff")
    assert chat.connect(connection_id, "cust-handoff") == 200
    session_id = repo.session_id_of_connection(connection_id)
    neighbour_before = snapshot(repo, neighbour.session_id)
    replied: set[str] = set()
    for payload in calls:
        if isinstance(payload, dict):
            names = {OWN: session_id, UNKNOWN: "9d3c9a4e-0000-4000-8000-00000000000d"}
            value = payload["session_id"]
            payload = {**payload, "session_id": names.get(value, value) if isinstance(value, str) else value}
        before, agent_before = snapshot(repo, session_id), (repo.get(session_id).agent_id)

        answer = handoff.handler(payload, None)

        LEDGER.input("handoff direct invocations")
        status = answer["statusCode"]
        event(f"status {status}")
        after = snapshot(repo, session_id)
        assert status in CLIENT_STATUSES, answer
        assert snapshot(repo, neighbour.session_id) == neighbour_before
        if status != 200:
            assert STATUS_OF[answer["error"]["code"]] == status and isinstance(
                answer["error"]["message"], str
            )
            assert after == before, "a refused handoff call wrote something"
            continue
        action = payload.get("action", "start")
        assert payload["session_id"] == session_id and answer["session_id"] == session_id
        added = len(after.turns) - len(before.turns)
        if action == "reply":  # once per reply id: a repeat stores nothing
            repeat = payload["reply_id"] in replied
            replied.add(payload["reply_id"])
            assert after.status == before.status == "handoff" and added == (0 if repeat else 1)
            if not repeat:
                assert after.turns[-1].role == "assistant"
                assert after.turns[-1].content == payload["message"].strip()
        elif action == "release":
            assert before.status == "handoff" and agent_before == payload["agent_id"]
            assert after.status == "active" and added == 1
        elif action == "transfer":  # no console is connected: only back to the queue succeeds
            assert agent_before == payload["agent_id"] and repo.get(session_id).agent_id is None
            assert added == 1
        else:  # start or claim: a move only when it changed who holds the session
            agent = payload.get("agent_id")
            moved = before.status == "active" or (agent is not None and agent_before != agent)
            assert after.status == "handoff" and added == (1 if moved else 0)
            assert repo.get(session_id).agent_id in (agent, agent_before)
            assert agent_before is None or repo.get(session_id).agent_id == agent_before  # never taken
        assert after.turn_count == len(after.turns)
