"""Steps of agents.feature: agents' consoles are connections whose authorizer says ``role: agent``;
every step goes through the real handlers, as API Gateway would call them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from dependency_injector import providers
from pytest_bdd import given, parsers, scenarios, then, when

from application.telemetry import HANDOFFS_UNCLAIMED
from entrypoints import handoff, message
from features.conftest import World, asks_for_human
from testing.harness import agent_authorizer, message_event
from testing.telemetry import RecordingTelemetry

scenarios("agents.feature")


@pytest.fixture
def telemetry(world: World) -> Iterator[RecordingTelemetry]:
    recording = RecordingTelemetry()
    world.chat.container.adapters.telemetry.override(providers.Object(recording))
    yield recording
    world.chat.container.adapters.telemetry.reset_override()


def console_of(world: World, agent: str) -> str:
    return world.conn(agent.upper())


def act(world: World, agent: str, action: str, **fields: Any) -> int:
    body = {"action": action, **fields}
    return world.chat.send(console_of(world, agent), body, authorizer=agent_authorizer(agent))


def history_of_handoffs(world: World) -> list[str]:
    return [str(h.transition) for h in world.chat.repository.handoffs(world.session_of("A"))]


def state(world: World) -> tuple[Any, ...]:
    repo = world.chat.repository
    session = repo.get(world.session_of("A"))
    return (
        session.status,
        session.agent_id,
        session.turn_count,
        len(repo.history(session.session_id, 100)),
        len(repo.handoffs(session.session_id)),
    )


# --- given -----------------------------------------------------------------------------------------


@given(parsers.parse('agent "{agent}" has the console open on connection "{name}"'))
def console_open(world: World, agent: str, name: str) -> None:
    assert name == agent.upper()
    assert world.chat.connect(world.conn(name), authorizer=agent_authorizer(agent)) == 200


@given(parsers.parse('connection "{name}" has asked for a human because "{reason}"'))
def has_asked(world: World, name: str, reason: str) -> None:
    asks_for_human(world, name, reason)


@given(
    parsers.parse('agent "{agent}" holds the conversation of connection "{name}"'),
    target_fixture="claimed",
)
def holds(world: World, agent: str, name: str) -> tuple[Any, ...]:
    asks_for_human(world, name, "refund")
    assert act(world, agent, "agent.claim", session_id=world.session_of(name)) == 200
    return state(world)


# --- when ------------------------------------------------------------------------------------------


@when(parsers.parse('agent "{agent}" looks at the queue'))
def looks(world: World, agent: str) -> None:
    assert act(world, agent, "agent.queue") == 200


@when(parsers.parse('agent "{agent}" claims the conversation'))
def claims(world: World, agent: str) -> None:
    act(world, agent, "agent.claim", session_id=world.session_of("A"))


@when(parsers.parse('agent "{agent}" claims a conversation that does not exist'))
def claims_unknown(world: World, agent: str) -> None:
    act(world, agent, "agent.claim", session_id="9d3c9a4e-0000-4000-8000-00000000000d")


@given(parsers.parse('agent "{agent}" replies "{text}" with reply id "{reply_id}"'))
@when(parsers.parse('agent "{agent}" replies "{text}" with reply id "{reply_id}"'))
def replies(world: World, agent: str, text: str, reply_id: str) -> None:
    act(world, agent, "agent.reply", session_id=world.session_of("A"), message=text, reply_id=reply_id)


@when(parsers.parse('agent "{agent}" replies with a message of {size:d} characters'))
def replies_long(world: World, agent: str, size: int) -> None:
    act(world, agent, "agent.reply", session_id=world.session_of("A"), message="x" * size, reply_id="long")


@when(parsers.parse('agent "{agent}" passes the conversation to "{colleague}"'))
def passes(world: World, agent: str, colleague: str) -> None:
    act(world, agent, "agent.transfer", session_id=world.session_of("A"), to_agent_id=colleague)


@when(parsers.parse('agent "{agent}" puts the conversation back in the queue'))
def back_to_queue(world: World, agent: str) -> None:
    assert act(world, agent, "agent.transfer", session_id=world.session_of("A")) == 200


@when(parsers.parse('agent "{agent}" hands the conversation back to the bot'))
def releases(world: World, agent: str) -> None:
    act(world, agent, "agent.release", session_id=world.session_of("A"))


@when(
    parsers.parse('agents "{first}" and "{second}" claim the conversation at the same moment'),
    target_fixture="race",
)
def race(world: World, first: str, second: str) -> dict[str, int]:
    chat = world.chat
    racing = SameMoment(chat.repository, parties=2)
    chat.container.adapters.repository.override(providers.Object(racing))
    statuses: dict[str, int] = {}
    session_id = world.session_of("A")

    def claim(agent: str) -> None:
        event = message_event(
            console_of(world, agent),
            {"action": "agent.claim", "session_id": session_id},
            authorizer=agent_authorizer(agent),
        )
        statuses[agent] = message.handler(event, None)["statusCode"]

    threads = [threading.Thread(target=claim, args=(agent,)) for agent in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    chat.container.adapters.repository.reset_override()
    chat.settle()
    assert racing.met, "the two claims did not read the session before either wrote"
    return statuses


@when(parsers.parse('connection "{name}" sends the agent action "{action}"'))
def customer_sends_agent_action(world: World, name: str, action: str) -> None:
    assert world.chat.send(world.conn(name), {"action": action}) == 403


@when(parsers.parse("{minutes:d} minutes pass and the unclaimed handoffs are checked"))
def minutes_pass(world: World, minutes: int, telemetry: RecordingTelemetry) -> None:
    assert telemetry.total(HANDOFFS_UNCLAIMED) == 0  # nothing counted while the wait was short
    world.clock.advance(minutes * 60)
    sweep(world)


@when("the unclaimed handoffs are checked again")
def sweep(world: World) -> None:
    world.chat.container.config.websocket_callback_url.override("http://callback.invalid")
    assert handoff.handler({"action": "sweep"}, None)["statusCode"] == 200


# --- then ------------------------------------------------------------------------------------------


@then(parsers.parse('connection "{name}" is told it is waiting for an agent'))
def told_waiting(world: World, name: str) -> None:
    frame = world.chat.frames(world.conn(name), "handoff")[-1]
    assert frame["status"] == "handoff" and frame["transition"] == "waiting" and frame["agent_id"] is None


@then(parsers.parse('the consoles "{first}" and "{second}" hear that the queue changed'))
def queue_changed(world: World, first: str, second: str) -> None:
    for name in (first, second):
        frame = world.chat.frames(world.conn(name), "queue_changed")[-1]
        assert frame["session_id"] == world.session_of("A") and frame["status"] == "waiting"


@then(parsers.parse('agent "{agent}" sees {count:d} waiting conversation, asked for because "{reason}"'))
def sees_queue(world: World, agent: str, count: int, reason: str) -> None:
    frame = world.chat.frames(console_of(world, agent), "queue")[-1]
    waiting = [h for h in frame["handoffs"] if h["status"] == "waiting"]
    assert len(waiting) == count
    assert waiting[0]["reason"] == reason and waiting[0]["customer_id"] == "cust-1"
    assert waiting[0]["session_id"] == world.session_of("A") and waiting[0]["waiting_since"]


@then(parsers.parse('agent "{agent}" sees the conversation so far'))
def sees_conversation(world: World, agent: str) -> None:
    frame = world.chat.frames(console_of(world, agent), "claimed")[-1]
    assert frame["session_id"] == world.session_of("A")
    stored = world.chat.repository.history(world.session_of("A"), 100)
    assert [t["content"] for t in frame["turns"]] == [t.content for t in stored][-len(frame["turns"]) :]
    assert frame["turns"] and "human agent" in frame["turns"][0]["content"]


@then(parsers.parse('connection "{name}" is told that agent "{agent}" joined'))
def told_joined(world: World, name: str, agent: str) -> None:
    frame = world.chat.frames(world.conn(name), "handoff")[-1]
    assert frame["transition"] == "claimed" and frame["agent_id"] == agent


@then(parsers.parse('connection "{name}" is told the conversation moved to agent "{agent}"'))
def told_moved(world: World, name: str, agent: str) -> None:
    frame = world.chat.frames(world.conn(name), "handoff")[-1]
    assert frame["transition"] == "transferred" and frame["agent_id"] == agent


@then(parsers.parse('connection "{name}" is told MangaAssist is back'))
def told_back(world: World, name: str) -> None:
    frame = world.chat.frames(world.conn(name), "handoff")[-1]
    assert frame["transition"] == "released" and frame["status"] == "active"


@then(parsers.parse('the conversation\'s handoff history reads "{transitions}"'))
def handoff_history(world: World, transitions: str) -> None:
    assert history_of_handoffs(world) == transitions.split(", ")


@then(parsers.parse('connection "{name}" is told its message "{message_id}" was forwarded'))
def told_forwarded(world: World, name: str, message_id: str) -> None:
    assert world.chat.last(world.conn(name)) == {"type": "forwarded", "reply_to": message_id}


@then(parsers.parse('agent "{agent}" receives the customer\'s message "{text}"'))
def receives(world: World, agent: str, text: str) -> None:
    frame = world.chat.frames(console_of(world, agent), "customer_message")[-1]
    assert frame["content"] == text and frame["session_id"] == world.session_of("A")


@then(parsers.parse('agent "{agent}" received no customer\'s message'))
def receives_none(world: World, agent: str) -> None:
    assert world.chat.frames(console_of(world, agent), "customer_message") == []


@then(parsers.parse('connection "{name}" received "{text}" from agent "{agent}" once'))
def received_once(world: World, name: str, text: str, agent: str) -> None:
    replies = [f for f in world.chat.frames(world.conn(name), "message") if f["content"] == text]
    assert len(replies) == 1
    assert replies[0]["agent_id"] == agent and replies[0]["reply_to"] is None


@then(parsers.parse('the conversation holds "{text}" once'))
def holds_once(world: World, text: str) -> None:
    turns = world.chat.repository.history(world.session_of("A"), 100)
    assert [t.content for t in turns].count(text) == 1


@then(parsers.parse('exactly one of them holds it, and the other is told "{code}"'))
def one_winner(world: World, code: str, race: dict[str, int]) -> None:
    statuses = race
    holder = world.chat.repository.get(world.session_of("A")).agent_id
    [winner] = [agent for agent, status in statuses.items() if status == 200]
    [loser] = [agent for agent, status in statuses.items() if status != 200]
    assert holder == winner and statuses[loser] == 409
    # Its error frame, whatever queue_changed the winner's claim pushed before or after it.
    [refusal] = world.chat.frames(console_of(world, loser), "error")
    assert refusal["code"] == code


@then(parsers.parse('connection "{name}" is refused with "{code}"'))
@then(parsers.parse('the console "{name}" is told "{code}"'))
def console_told(world: World, name: str, code: str) -> None:
    frame = world.chat.last(world.conn(name))
    assert frame["type"] == "error" and frame["code"] == code and frame["message"], frame


@then(parsers.parse('nothing about the conversation changed since agent "{agent}" claimed it'))
def unchanged(world: World, agent: str, claimed: tuple[Any, ...]) -> None:
    assert state(world) == claimed
    assert world.chat.repository.get(world.session_of("A")).agent_id == agent


@then(parsers.parse('connection "{name}" never saw the queue'))
def no_queue(world: World, name: str) -> None:
    kinds = {f["type"] for f in world.chat.frames(world.conn(name))}
    assert not kinds & {"queue", "queue_changed", "claimed", "customer_message"}


@then(parsers.parse('connection "{name}" is told nobody has claimed it yet'))
def told_unclaimed(world: World, name: str) -> None:
    frame = world.chat.last(world.conn(name))
    assert frame["type"] == "handoff" and frame["transition"] == "unclaimed" and frame["message"]


@then(parsers.parse("{count:d} unclaimed handoff was counted"))
def counted(telemetry: RecordingTelemetry, count: int) -> None:
    assert telemetry.total(HANDOFFS_UNCLAIMED) == count


@then(parsers.parse('connection "{name}" was told so only once'))
def told_once(world: World, name: str) -> None:
    frames = world.chat.frames(world.conn(name), "handoff")
    assert [f.get("transition") for f in frames].count("unclaimed") == 1


@then(parsers.parse('the bot\'s last prompt holds "{text}"'))
def prompt_holds(world: World, text: str) -> None:
    prompt = world.chat.llm.prompts[-1]
    assert any(text in m.text for m in prompt.messages) or any(text in part for part in prompt.system)


class SameMoment:
    """Holds back each racer's first transition until all have read the session, then lets their
    writes through one at a time (the in-process moto is not thread-safe; DynamoDB serializes writes
    to an item anyway). Whoever writes second writes from a read that is out of date."""

    def __init__(self, inner: Any, parties: int) -> None:
        self.inner = inner
        self._barrier = threading.Barrier(parties, timeout=10)
        self._lock = threading.RLock()
        self._waited: set[int] = set()
        self.met = False

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if not callable(target):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            if name == "record_transition" and threading.get_ident() not in self._waited:
                self._waited.add(threading.get_ident())
                self._barrier.wait()
                self.met = True
            with self._lock:
                return target(*args, **kwargs)

        return call
