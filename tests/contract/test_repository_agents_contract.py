"""The store contract for the agents' side: the queue of open handoffs, claims that cannot collide,
agents' replies remembered by reply id, and the connected consoles. Both stores, one suite."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from application.errors import ConcurrentUpdate
from application.ports import AgentConnection
from domain.errors import NotHandoffHolder, UnexpectedStatus
from domain.model import Handoff, HandoffTransition, Role, Turn
from tests.contract.conversation import IDLE, NOW, ids, open_session

LATER = NOW + timedelta(minutes=10)


def announce(text: str, at: Any = LATER) -> Turn:
    return Turn(ids.turn_id(at), Role.SYSTEM, text, 5, at)


def waiting(repo: Any, session_id: str = "s-1", at: Any = LATER, connection: str = "conn-A") -> Any:
    current = open_session(repo, session_id, connection)
    updated = current.hand_off(at, IDLE, reason="refund")
    record = Handoff(ids.turn_id(at), session_id, "unassigned", "refund", at, HandoffTransition.WAITING)
    repo.record_transition(current, updated, announce("waiting", at), record)
    return repo.get(session_id)


def claim(repo: Any, session: Any, agent: str, at: Any = LATER) -> Any:
    updated = session.claim(agent, f"console-{agent}", at, IDLE)
    record = Handoff(
        ids.turn_id(at), session.session_id, agent, "refund", at, HandoffTransition.CLAIMED, agent
    )
    repo.record_transition(session, updated, announce(f"{agent} joined", at), record)
    return repo.get(session.session_id)


def agent_turn(agent: str, text: str = "Agent here", at: Any = LATER) -> Turn:
    return Turn(ids.turn_id(at), Role.ASSISTANT, text, 2, at, response_id="r-a", agent_id=agent)


def test_the_queue_lists_open_handoffs_oldest_first_waiting_and_held(repo: Any) -> None:
    newer = waiting(repo, "s-new", LATER + timedelta(minutes=1), "conn-N")
    older = waiting(repo, "s-old", LATER, "conn-O")
    open_session(repo, "s-bot", "conn-B")
    claim(repo, newer, "agent-7")
    queue = repo.open_handoffs(10)
    assert [e.session_id for e in queue] == ["s-old", "s-new"]
    assert (queue[0].agent_id, queue[1].agent_id) == (None, "agent-7")
    assert queue[0].reason == "refund" and queue[0].customer_id == "c-1"
    assert queue[0].waiting_since == older.waiting_since
    assert queue[0].expires_at == older.expires_at
    assert [e.session_id for e in repo.open_handoffs(1)] == ["s-old"]


def test_a_released_session_leaves_the_queue(repo: Any) -> None:
    held = claim(repo, waiting(repo), "agent-7")
    back = held.release_to_bot(LATER, IDLE, by_agent="agent-7")
    repo.record_transition(held, back, announce("back to the bot"))
    assert repo.open_handoffs(10) == []
    assert repo.get("s-1").waiting_since is None and repo.get("s-1").agent_id is None


def test_of_two_claims_read_at_once_the_second_finds_the_session_taken(repo: Any) -> None:
    session = waiting(repo)
    claim(repo, session, "agent-7")
    stale = session.claim("agent-8", "console-agent-8", LATER, IDLE)
    turns_before = repo.get("s-1").turn_count
    with pytest.raises(ConcurrentUpdate):
        repo.record_transition(session, stale, announce("agent-8 joined"))
    stored = repo.get("s-1")
    assert stored.agent_id == "agent-7" and stored.turn_count == turns_before
    assert [h.transition for h in repo.handoffs("s-1")] == [
        HandoffTransition.WAITING,
        HandoffTransition.CLAIMED,
    ]


def test_handoff_records_keep_their_transition_and_mover(repo: Any) -> None:
    claim(repo, waiting(repo), "agent-7")
    first, second = repo.handoffs("s-1")
    assert (first.transition, first.agent_id, first.by_agent_id) == (
        HandoffTransition.WAITING,
        "unassigned",
        None,
    )
    assert (second.transition, second.agent_id, second.by_agent_id) == (
        HandoffTransition.CLAIMED,
        "agent-7",
        "agent-7",
    )


def test_an_agent_reply_is_stored_once_by_reply_id(repo: Any) -> None:
    claim(repo, waiting(repo), "agent-7")
    count = repo.get("s-1").turn_count
    first = agent_turn("agent-7", "Your refund is on its way")
    assert repo.add_agent_reply("s-1", "reply-1", first, LATER + IDLE) == (first, True)
    retry = agent_turn("agent-7", "Your refund is on its way")  # a new turn id, as a retry makes
    assert repo.add_agent_reply("s-1", "reply-1", retry, LATER + IDLE) == (first, False)
    assert repo.get("s-1").turn_count == count + 1
    assert [t.content for t in repo.history("s-1", 10)].count("Your refund is on its way") == 1


def test_only_the_holder_may_reply(repo: Any) -> None:
    session = waiting(repo)
    with pytest.raises(NotHandoffHolder):
        repo.add_agent_reply("s-1", "r-1", agent_turn("agent-7"), LATER + IDLE)
    claim(repo, session, "agent-7")
    with pytest.raises(NotHandoffHolder):
        repo.add_agent_reply("s-1", "r-2", agent_turn("agent-8"), LATER + IDLE)
    open_session(repo, "s-bot", "conn-B")
    with pytest.raises(UnexpectedStatus):
        repo.add_agent_reply("s-bot", "r-3", agent_turn("agent-7"), LATER + IDLE)
    assert repo.get("s-1").turn_count == 2  # the two announcements, no reply


def test_connected_agents_are_listed_and_forgotten(repo: Any) -> None:
    assert repo.agent_connections() == []
    one = AgentConnection("console-1", "agent-7", NOW)
    two = AgentConnection("console-2", "agent-8", LATER)
    repo.add_agent_connection(one, NOW + timedelta(hours=2))
    repo.add_agent_connection(two, NOW + timedelta(hours=2))
    assert sorted(repo.agent_connections(), key=lambda c: c.connection_id) == [one, two]
    repo.remove_agent_connection("console-1")
    repo.remove_agent_connection("console-1")  # again: no error
    assert repo.agent_connections() == [two]
