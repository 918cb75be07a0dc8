"""Steps shared by every feature. A scenario talks to the real handlers through ``testing.harness.Chat``."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator

import pytest
from attrs import define, field
from pytest_bdd import given, parsers, then, when

from testing.fakes import ManualClock
from testing.harness import Chat
from testing.model import RecordingModel


@define
class World:
    """What every scenario remembers between steps: the system, connection names, the last session
    named. A feature's own state is a fixture of its own, set by the step that makes it
    (``target_fixture``)."""

    chat: Chat
    clock: ManualClock
    connections: dict[str, str] = field(factory=dict)
    session_id: str | None = None

    def conn(self, name: str) -> str:
        return self.connections.setdefault(name, f"conn{name}Id0000=")

    def session_of(self, name: str) -> str:
        session_id: str | None = self.chat.repository.session_id_of_connection(self.conn(name))
        assert session_id is not None, f"connection {name} has no session"
        return session_id


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(tick_seconds=0.001)  # distinct times, unless a scenario stops the clock


@pytest.fixture
def world(clock: ManualClock) -> Iterator[World]:
    chat = Chat(clock=clock, llm=RecordingModel())
    yield World(chat, clock)
    chat.close()


# --- given -----------------------------------------------------------------------------------------


@given(parsers.parse('customer "{customer}" is connected on connection "{name}"'))
@when(parsers.parse('customer "{customer}" connects on connection "{name}"'))
def customer_connects(world: World, customer: str, name: str) -> None:
    assert world.chat.connect(world.conn(name), customer) == 200


@given(parsers.parse('customer "{customer}" has chatted on connection "{name}" and asked "{text}"'))
def customer_chatted(world: World, customer: str, name: str, text: str) -> None:
    customer_connects(world, customer, name)
    assert world.chat.say(world.conn(name), text, "m-first") == 200
    world.session_id = world.session_of(name)


@given(parsers.parse('an anonymous visitor has chatted on connection "{name}" and asked "{text}"'))
def anonymous_chatted(world: World, name: str, text: str) -> None:
    assert world.chat.connect(world.conn(name)) == 200
    assert world.chat.say(world.conn(name), text, "m-first") == 200
    world.session_id = world.session_of(name)


@given("the clock stands still")
def clock_stands_still(world: World) -> None:
    world.clock.tick_seconds = 0.0


# --- when ------------------------------------------------------------------------------------------


@when(parsers.parse('connection "{name}" asks for its session'))
def asks_session(world: World, name: str) -> None:
    assert world.chat.send(world.conn(name), {"action": "session"}) == 200


@when(parsers.parse('connection "{name}" asks for a human because "{reason}"'))
def asks_for_human(world: World, name: str, reason: str) -> None:
    assert world.chat.send(world.conn(name), {"action": "handoff", "reason": reason}) == 200


@when(parsers.parse('connection "{name}" drops'))
def drops(world: World, name: str) -> None:
    assert world.chat.disconnect(world.conn(name)) == 200


@when(parsers.parse('customer "{customer}" reconnects on connection "{name}" naming that session'))
@when(parsers.parse('customer "{customer}" connects on connection "{name}" naming that session'))
def reconnects(world: World, customer: str, name: str) -> None:
    assert world.chat.connect(world.conn(name), customer, world.session_id) == 200


@when(parsers.parse('an anonymous visitor connects on connection "{name}" naming that session'))
def anonymous_reconnects(world: World, name: str) -> None:
    assert world.chat.connect(world.conn(name), None, world.session_id) == 200


@given(parsers.parse('connection "{name}" sends the message "{text}" with id "{message_id}"'))
@when(parsers.parse('connection "{name}" sends the message "{text}" with id "{message_id}"'))
def sends_with_id(world: World, name: str, text: str, message_id: str) -> None:
    world.chat.say(world.conn(name), text, message_id)


@when(parsers.parse('connection "{name}" sends the message "{text}"'))
def sends(world: World, name: str, text: str) -> None:
    world.chat.say(world.conn(name), text)


@when(parsers.parse('API Gateway delivers the frame "{text}" twice with message id "{request_id}"'))
def delivered_twice(world: World, text: str, request_id: str) -> None:
    body = {"action": "sendMessage", "message": text}
    for _ in range(2):
        assert world.chat.send(world.conn("A"), body, request_message_id=request_id) == 200


@when(parsers.parse('connection "{name}" sends a message of {size:d} characters'))
def sends_long(world: World, name: str, size: int) -> None:
    world.chat.say(world.conn(name), "x" * size)


@when(
    parsers.parse('connection "{name}" sends the message "{text}" into the session of connection "{owner}"')
)
def sends_into_other(world: World, name: str, text: str, owner: str) -> None:
    world.chat.say(world.conn(name), text, session_id=world.session_of(owner))


@when(
    parsers.parse('connection "{name}" has a {count:d}-question conversation with long questions'),
    target_fixture="last_question",
)
def long_conversation(world: World, name: str, count: int) -> str:
    question = ""
    for index in range(count):
        question = f"Question {index}: " + "Could you tell me more about that series and its volumes? " * 12
        assert world.chat.say(world.conn(name), question, f"m-{index}") == 200
    return question


# --- then ------------------------------------------------------------------------------------------


@then(parsers.parse('connection "{name}" is told a new active session that was not resumed'))
def told_new(world: World, name: str) -> None:
    frame = world.chat.frames(world.conn(name), "session")[-1]
    assert frame["resumed"] is False and frame["status"] == "active"
    assert frame["session_id"] != world.session_id


@then(parsers.parse('connection "{name}" is told the same session, resumed and active'))
def told_same(world: World, name: str) -> None:
    frame = world.chat.frames(world.conn(name), "session")[-1]
    assert frame == {"type": "session", "session_id": world.session_id, "resumed": True, "status": "active"}


@then(parsers.parse('connection "{name}" sees {count:d} turns of history, the first being "{text}"'))
@then(parsers.parse('connection "{name}" sees {count:d} turns of history'))
def sees_history(world: World, name: str, count: int, text: str | None = None) -> None:
    assert world.chat.send(world.conn(name), {"action": "history"}) == 200
    turns = world.chat.frames(world.conn(name), "history")[-1]["turns"]
    assert len(turns) == count
    if text is not None:
        assert turns[0]["role"] == "user" and turns[0]["content"] == text


def refusal(world: World, name: str) -> str:
    """The code of the error frame a connection was sent last."""
    frame = world.chat.last(world.conn(name))
    assert frame["type"] == "error" and frame["message"], frame
    return str(frame["code"])


@then(parsers.parse('connection "{name}" is told the message is too large'))
def told_too_large(world: World, name: str) -> None:
    assert refusal(world, name) == "too_large"


@then(parsers.parse('connection "{name}" is told the session is not theirs'))
def told_not_theirs(world: World, name: str) -> None:
    assert refusal(world, name) == "forbidden"


@then(parsers.parse("the session has {count:d} turns"))
def session_turns(world: World, count: int) -> None:
    session = world.chat.repository.get(world.session_id or world.session_of("A"))
    assert session.turn_count == count
    assert len(world.chat.repository.history(session.session_id, 100)) == min(count, 100)


@then(parsers.parse('the session of connection "{name}" has {count:d} turns'))
def named_session_turns(world: World, name: str, count: int) -> None:
    session = world.chat.repository.get(world.session_of(name))
    assert session.turn_count == count


@then(parsers.parse("the bot was asked {count:d} time"))
@then(parsers.parse("the bot was asked {count:d} times"))
def model_calls(world: World, count: int) -> None:
    assert world.chat.llm.calls == count


@then(
    parsers.parse(
        'connection "{name}" receives at least {count:d} chunk and then one message replying to "{mid}"'
    )
)
def receives_stream(world: World, name: str, count: int, mid: str) -> None:
    frames = world.chat.frames(world.conn(name))
    kinds = [f["type"] for f in frames]
    assert kinds.count("message") == 1 and kinds[-1] == "message"
    chunks = [f for f in frames if f["type"] == "chunk"]
    assert len(chunks) >= count
    assert [c["index"] for c in chunks] == list(range(len(chunks)))
    assert {c["response_id"] for c in chunks} == {frames[-1]["response_id"]}
    assert frames[-1]["reply_to"] == mid


@then("the chunks put together are the message's content")
def chunks_make_message(world: World) -> None:
    frames = world.chat.frames(world.conn("A"))
    assert "".join(f["delta"] for f in frames if f["type"] == "chunk") == frames[-1]["content"]


@then(
    parsers.parse('connection "{name}" received {count:d} messages replying to "{mid}" with the same content')
)
def same_replies(world: World, name: str, count: int, mid: str) -> None:
    messages = [f for f in world.chat.frames(world.conn(name), "message") if f["reply_to"] == mid]
    assert len(messages) == count
    assert len({json.dumps(m, sort_keys=True) for m in messages}) == 1


@then(parsers.parse('the history of connection "{name}" is "{first}", a reply, "{second}", a reply'))
def ordered_history(world: World, name: str, first: str, second: str) -> None:
    assert world.chat.send(world.conn(name), {"action": "history"}) == 200
    turns = world.chat.frames(world.conn(name), "history")[-1]["turns"]
    assert [t["role"] for t in turns] == ["user", "assistant", "user", "assistant"]
    assert turns[0]["content"] == first and turns[2]["content"] == second
    assert turns[0]["created_at"] == turns[2]["created_at"]  # the same instant, still in order


@then(parsers.parse("every prompt the bot received fits in {budget:d} tokens"))
def prompts_fit(world: World, budget: int) -> None:
    llm = world.chat.llm
    assert llm.prompts
    for prompt in llm.prompts:
        assert prompt.estimated_tokens <= budget
        assert llm.input_tokens(prompt) <= budget


@then("the last prompt ends with the last question")
def last_prompt(world: World, last_question: str) -> None:
    prompt = world.chat.llm.prompts[-1]
    assert prompt.messages[0].role == "user" and prompt.messages[-1].role == "user"
    assert prompt.messages[-1].text == last_question.strip()
    roles = [m.role for m in prompt.messages]
    assert all(a != b for a, b in itertools.pairwise(roles))
