"""Steps of async.feature: the workers are driven as their triggers would drive them."""

from __future__ import annotations

from dependency_injector import providers
from pytest_bdd import given, parsers, scenarios, then, when

from adapters.memory_retry_queue import InMemoryRetryQueue
from application.summaries import RollSummaryCommand
from domain.model import Role, SessionStatus
from entrypoints import handoff, turn_writer
from features.conftest import World
from testing.fakes import FlakyRepository
from testing.harness import sqs_record
from tests.conflicts import ConflictingTransitions

scenarios("async.feature")


@when(parsers.parse('connection "{name}" asks {count:d} questions about "{topic}"'))
def asks_questions(world: World, name: str, count: int, topic: str) -> None:
    for n in range(count):
        assert world.chat.say(world.conn(name), f"Question {n} about {topic}?", f"q-{n}") == 200


@then(parsers.parse("a summary covering {count:d} turns exists"))
def summary_exists(world: World, count: int) -> None:
    summary = world.chat.repository.latest_summary(world.session_of("A"))
    assert summary is not None and summary.turns_covered == count
    covered = world.chat.repository.turns_after(world.session_of("A"), None, 100)[:count]
    assert summary.last_turn_id == covered[-1].turn_id
    world.summary = summary  # type: ignore[attr-defined]


@then("the model's last prompt carries the summary in its system text")
def prompt_has_summary(world: World) -> None:
    prompt = world.chat.llm.prompts[-1]
    assert any(world.summary.text in part for part in prompt.system)  # type: ignore[attr-defined]


@then("the model's last prompt holds no turn the summary covers")
def prompt_after_summary(world: World) -> None:
    prompt = world.chat.llm.prompts[-1]
    assert [m.text for m in prompt.messages] == ["And what about Dungeon Meshi?"]


@when(parsers.parse("the summarizer hears again that the session reached {count:d} turns"))
@when(parsers.parse("the summarizer hears late that the session reached {count:d} turns"))
def summarizer_hears(world: World, count: int) -> None:
    world.chat.container.use_cases.roll_summary()(RollSummaryCommand(world.session_of("A"), count))


@then(parsers.parse("exactly {count:d} summary exists"))
def summaries_count(world: World, count: int) -> None:
    assert len(world.chat.repository.summaries(world.session_of("A"))) == count


@when("the session stays idle past its expiry")
def idle(world: World) -> None:
    world.session_id = world.session_of("A")
    world.clock.advance(86400 + 1)


@when("the TTL service removes it")
def ttl_removes(world: World) -> None:
    assert world.chat.workers is not None
    assert world.chat.workers.sweep() == 1
    world.chat.settle()


@then("nothing of the session remains")
def nothing_remains(world: World) -> None:
    repo = world.chat.repository
    assert repo.get(world.session_id) is None
    assert repo.history(world.session_id, 100) == []
    assert repo.latest_summary(world.session_id) is None
    assert repo.message_record(world.session_id, "m-1") is None
    assert repo.delete_session(world.session_id) == 0


@then(parsers.parse('connection "{name}" was closed by the server'))
def closed(world: World, name: str) -> None:
    assert world.conn(name) in world.chat.notifier.closed


@given(parsers.parse('an agent console is connected on connection "{name}"'))
def agent_console(world: World, name: str) -> None:
    world.conn(name)


@when(parsers.parse('connection "{name}" asks for a human because "{reason}"'))
def asks_for_human(world: World, name: str, reason: str) -> None:
    assert world.chat.send(world.conn(name), {"action": "handoff", "reason": reason}) == 200


def invoke_handoff(world: World, **event: object) -> dict:
    world.chat.container.config.websocket_callback_url.override("http://callback.invalid")
    result = handoff.handler({"session_id": world.session_of("A"), **event}, None)
    world.chat.settle()
    return result


@when(parsers.parse('agent "{agent}" picks up the session from connection "{name}"'))
def picks_up(world: World, agent: str, name: str) -> None:
    result = invoke_handoff(world, agent_id=agent, agent_connection_id=world.conn(name), reason="pick-up")
    assert result["statusCode"] == 200 and result["agent_id"] == agent


@then(parsers.parse('connection "{name}" got a handoff frame with status "{status}"'))
def handoff_frame(world: World, name: str, status: str) -> None:
    frames = world.chat.frames(world.conn(name), "handoff")
    assert frames and frames[0]["status"] == status
    assert world.chat.frames(world.conn(name), "chunk") == []


@then(parsers.parse('connection "{name}" received the customer\'s message "{text}"'))
def agent_received(world: World, name: str, text: str) -> None:
    frames = world.chat.frames(world.conn(name), "customer_message")
    assert [f["content"] for f in frames] == [text]


@then("the session's history has a system turn announcing the handoff")
def system_turn(world: World) -> None:
    turns = world.chat.repository.history(world.session_of("A"), 100)
    assert [t.role for t in turns][:1] == [Role.SYSTEM] and "human agent" in turns[0].content


@when(parsers.parse('agent "{agent}" answers "{text}"'))
def agent_answers(world: World, agent: str, text: str) -> None:
    result = invoke_handoff(world, action="reply", agent_id=agent, message=text)
    assert result["statusCode"] == 200, result


@then(parsers.parse('connection "{name}" receives a message from agent "{agent}"'))
def receives_agent_message(world: World, name: str, agent: str) -> None:
    frame = world.chat.last(world.conn(name))
    assert frame["type"] == "message" and frame["agent_id"] == agent


@when(parsers.parse('agent "{agent}" hands the session back to the bot'))
def hands_back(world: World, agent: str) -> None:
    result = invoke_handoff(world, action="release", agent_id=agent)
    assert result["statusCode"] == 200 and result["status"] == "active"


@given(parsers.parse("the {write} write of the next handoff will fail"))
def handoff_will_fail(world: World, write: str) -> None:
    conflicts = ConflictingTransitions(world.chat.repository, write.replace(" ", "_"))
    world.chat.container.adapters.repository.override(providers.Object(conflicts))
    world.session_id = world.session_of("A")
    world.before = world.chat.repository.get(world.session_id)  # type: ignore[attr-defined]


@when(parsers.parse('agent "{agent}" takes over the session because "{reason}"'))
def takes_over(world: World, agent: str, reason: str) -> None:
    world.result = invoke_handoff(world, agent_id=agent, reason=reason)  # type: ignore[attr-defined]


@then("the handoff was refused")
def refused(world: World) -> None:
    assert world.result["statusCode"] == 409  # type: ignore[attr-defined]


@then("the session is still active with the bot, with no handoff recorded and no new turn")
def unchanged(world: World) -> None:
    conflicts = world.chat.repository
    inner = conflicts.inner
    session = inner.get(world.session_id)
    assert session.status is SessionStatus.ACTIVE and session.agent_id is None
    assert inner.handoffs(world.session_id) == list(conflicts.planted_handoffs)
    assert [t.turn_id for t in inner.history(world.session_id, 100)] == list(conflicts.planted_turns)
    assert session.turn_count == len(conflicts.planted_turns)


@given(parsers.parse("the table refuses the next {count:d} reply writes"))
def table_refuses_replies(world: World, count: int) -> None:
    flaky = FlakyRepository(world.chat.repository)
    flaky.fail("complete_exchange", times=count)
    world.queue = InMemoryRetryQueue()  # type: ignore[attr-defined]
    world.chat.container.adapters.repository.override(providers.Object(flaky))
    world.chat.container.adapters.retry_queue.override(providers.Object(world.queue))  # type: ignore[attr-defined]
    world.chat.auto_settle = False  # the turn writer gets the queue's messages by hand, below


@then(parsers.parse('connection "{name}" still receives its reply to "{message_id}"'))
def receives_reply(world: World, name: str, message_id: str) -> None:
    frame = world.chat.last(world.conn(name))
    assert frame["type"] == "message" and frame["reply_to"] == message_id


@then(parsers.parse("{count:d} reply waits in the retry queue"))
def waits(world: World, count: int) -> None:
    assert len(world.queue.bodies) == count  # type: ignore[attr-defined]
    assert len(world.chat.repository.history(world.session_of("A"), 100)) == 1  # only the question


def deliver(world: World, bodies: list[str]) -> None:
    event = {"Records": [sqs_record(f"sqs-{n}", body) for n, body in enumerate(bodies)]}
    world.turn_writer_response = turn_writer.handler(event, None)  # type: ignore[attr-defined]
    world.delivered = event  # type: ignore[attr-defined]


@when("the turn writer receives the retry queue's messages")
def turn_writer_receives(world: World) -> None:
    deliver(world, world.queue.bodies)  # type: ignore[attr-defined]


@when("the turn writer receives the same messages again")
def turn_writer_again(world: World) -> None:
    world.turn_writer_response = turn_writer.handler(world.delivered, None)  # type: ignore[attr-defined]


@then("the turn writer reports no failure")
def no_failure(world: World) -> None:
    assert world.turn_writer_response == {"batchItemFailures": []}  # type: ignore[attr-defined]


@when(
    "the turn writer receives a batch of the first reply, a message that is no pending write, "
    "and the second reply"
)
def poison_batch(world: World) -> None:
    first, second = world.queue.bodies  # type: ignore[attr-defined]
    deliver(world, [first, '{"format": "something-else", "version": 9}', second])


@then("the turn writer reports only the unreadable message as failed")
def only_poison(world: World) -> None:
    assert world.turn_writer_response == {"batchItemFailures": [{"itemIdentifier": "sqs-1"}]}  # type: ignore[attr-defined]
