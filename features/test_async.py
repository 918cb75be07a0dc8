"""Steps of async.feature: the workers are driven as their triggers would drive them."""

from __future__ import annotations

from typing import Any

import pytest
from dependency_injector import providers
from pytest_bdd import given, parsers, scenarios, then, when

from adapters.memory_retry_queue import InMemoryRetryQueue
from application.summaries import RollSummaryCommand
from domain.model import Role, SessionStatus, Summary
from entrypoints import handoff, turn_writer
from features.conftest import World
from testing.fakes import FlakyRepository
from testing.harness import sqs_record
from tests.conflicts import ConflictingTransitions

scenarios("async.feature")

Answer = dict[str, Any]  # what a Lambda handler returned


@pytest.fixture
def retry_queue() -> InMemoryRetryQueue:
    return InMemoryRetryQueue()


# --- summaries -------------------------------------------------------------------------------------


@when(parsers.parse('connection "{name}" asks {count:d} questions about "{topic}"'))
def asks_questions(world: World, name: str, count: int, topic: str) -> None:
    for n in range(count):
        assert world.chat.say(world.conn(name), f"Question {n} about {topic}?", f"q-{n}") == 200


@then(parsers.parse("the first {count:d} turns of the conversation are summarised"), target_fixture="summary")
def summary_exists(world: World, count: int) -> Summary:
    summary: Summary | None = world.chat.repository.latest_summary(world.session_of("A"))
    assert summary is not None and summary.turns_covered == count
    covered = world.chat.repository.turns_after(world.session_of("A"), None, 100)[:count]
    assert summary.last_turn_id == covered[-1].turn_id
    return summary


@then("the bot is reminded of the summary")
def prompt_has_summary(world: World, summary: Summary) -> None:
    prompt = world.chat.llm.prompts[-1]
    assert any(summary.text in part for part in prompt.system)


@then("the bot reads none of the turns the summary covers")
def prompt_after_summary(world: World) -> None:
    prompt = world.chat.llm.prompts[-1]
    assert [m.text for m in prompt.messages] == ["And what about Dungeon Meshi?"]


@when(parsers.parse("the news that the conversation reached {count:d} turns arrives a second time"))
@when(parsers.parse("the news that it reached {count:d} turns arrives late"))
def turns_counted_again(world: World, count: int) -> None:
    """What a Streams redelivery, or a record overtaken by a later one, hands the summary generator."""
    world.chat.container.use_cases.roll_summary()(RollSummaryCommand(world.session_of("A"), count))


@then(parsers.parse("the conversation has exactly {count:d} summary"))
def summaries_count(world: World, count: int) -> None:
    assert len(world.chat.repository.summaries(world.session_of("A"))) == count


# --- expiry ----------------------------------------------------------------------------------------


@when("the customer stays away longer than a session lives")
def stays_away(world: World) -> None:
    """The clock moves past the session's expiry; DynamoDB's TTL (here the workers' sweep) removes it."""
    world.session_id = world.session_of("A")
    world.clock.advance(world.chat.container.config.session_ttl_seconds() + 1)
    assert world.chat.workers is not None
    assert world.chat.workers.sweep() == 1
    world.chat.settle()


@then("nothing of the conversation remains")
def nothing_remains(world: World) -> None:
    repo, session_id = world.chat.repository, world.session_id
    assert session_id is not None
    assert repo.get(session_id) is None
    assert repo.history(session_id, 100) == []
    assert repo.latest_summary(session_id) is None
    assert repo.message_record(session_id, "m-1") is None
    assert repo.delete_session(session_id) == 0


@then(parsers.parse('connection "{name}" was closed by MangaAssist'))
def closed(world: World, name: str) -> None:
    assert world.conn(name) in world.chat.notifier.closed


# --- handoff ---------------------------------------------------------------------------------------


def invoke_handoff(world: World, **event: object) -> Answer:
    world.chat.container.config.websocket_callback_url.override("http://callback.invalid")
    answer: Answer = handoff.handler({"session_id": world.session_of("A"), **event}, None)
    world.chat.settle()
    return answer


@when(parsers.parse('agent "{agent}" picks up the session from connection "{name}"'))
def picks_up(world: World, agent: str, name: str) -> None:
    answer = invoke_handoff(world, agent_id=agent, agent_connection_id=world.conn(name), reason="pick-up")
    assert answer["statusCode"] == 200 and answer["agent_id"] == agent


@then(parsers.parse('connection "{name}" is told the session is with a human'))
def told_handoff(world: World, name: str) -> None:
    frames = world.chat.frames(world.conn(name), "handoff")
    assert frames and frames[0]["status"] == SessionStatus.HANDOFF
    assert world.chat.frames(world.conn(name), "chunk") == []


@then(parsers.parse('connection "{name}" received the customer\'s message "{text}"'))
def agent_received(world: World, name: str, text: str) -> None:
    frames = world.chat.frames(world.conn(name), "customer_message")
    assert [f["content"] for f in frames] == [text]


@then("the conversation's history says a human agent took over")
def system_turn(world: World) -> None:
    turns = world.chat.repository.history(world.session_of("A"), 100)
    assert [t.role for t in turns][:1] == [Role.SYSTEM] and "human agent" in turns[0].content


@when(parsers.parse('agent "{agent}" answers "{text}"'))
def agent_answers(world: World, agent: str, text: str) -> None:
    answer = invoke_handoff(world, action="reply", agent_id=agent, message=text, reply_id=f"reply-{text}")
    assert answer["statusCode"] == 200, answer


@then(parsers.parse('connection "{name}" receives a message from agent "{agent}"'))
def receives_agent_message(world: World, name: str, agent: str) -> None:
    frame = world.chat.last(world.conn(name))
    assert frame["type"] == "message" and frame["agent_id"] == agent


@when(parsers.parse('agent "{agent}" hands the session back to the bot'))
def hands_back(world: World, agent: str) -> None:
    answer = invoke_handoff(world, action="release", agent_id=agent)
    assert answer["statusCode"] == 200 and answer["status"] == "active"


@given(parsers.parse("the table will refuse the {part} of the next handoff"), target_fixture="conflicts")
def handoff_will_fail(world: World, part: str) -> ConflictingTransitions:
    conflicts = ConflictingTransitions(world.chat.repository, part.replace(" ", "_"))
    world.chat.container.adapters.repository.override(providers.Object(conflicts))
    world.session_id = world.session_of("A")
    return conflicts


@when(
    parsers.parse('agent "{agent}" takes over the session because "{reason}"'),
    target_fixture="handoff_answer",
)
def takes_over(world: World, agent: str, reason: str) -> Answer:
    return invoke_handoff(world, agent_id=agent, reason=reason)


@then("the agent is told the session could not be taken")
def refused(handoff_answer: Answer) -> None:
    assert handoff_answer["statusCode"] == 409 and handoff_answer["error"]["code"] == "conflict"


@then("the customer is still with the bot, with no handoff recorded and no new turn")
def unchanged(world: World, conflicts: ConflictingTransitions) -> None:
    inner, session_id = conflicts.inner, world.session_id
    session = inner.get(session_id)
    assert session.status is SessionStatus.ACTIVE and session.agent_id is None
    assert inner.handoffs(session_id) == list(conflicts.planted_handoffs)
    assert [t.turn_id for t in inner.history(session_id, 100)] == list(conflicts.planted_turns)
    assert session.turn_count == len(conflicts.planted_turns)


# --- replies stored late ---------------------------------------------------------------------------


@given(parsers.parse("the table refuses the next {count:d} reply writes"))
def table_refuses_replies(world: World, retry_queue: InMemoryRetryQueue, count: int) -> None:
    flaky = FlakyRepository(world.chat.repository)
    flaky.fail("complete_exchange", times=count)
    world.chat.container.adapters.repository.override(providers.Object(flaky))
    world.chat.container.adapters.retry_queue.override(providers.Object(retry_queue))
    world.chat.auto_settle = False  # the turn writer gets the queue's messages by hand, below


@then(parsers.parse('connection "{name}" still receives its reply to "{message_id}"'))
def receives_reply(world: World, name: str, message_id: str) -> None:
    frame = world.chat.last(world.conn(name))
    assert frame["type"] == "message" and frame["reply_to"] == message_id


@then(parsers.parse("{count:d} reply waits in the retry queue, not yet stored"))
def waits(world: World, retry_queue: InMemoryRetryQueue, count: int) -> None:
    assert len(retry_queue.bodies) == count
    assert len(world.chat.repository.history(world.session_of("A"), 100)) == 1  # only the question


def sqs_event(bodies: list[str]) -> dict[str, Any]:
    return {"Records": [sqs_record(f"sqs-{n}", body) for n, body in enumerate(bodies)]}


@when("the turn writer is handed the waiting replies", target_fixture="turn_writer_answer")
@when("the turn writer is handed the same replies again", target_fixture="turn_writer_answer")
def turn_writer_handed(retry_queue: InMemoryRetryQueue) -> Answer:
    answer: Answer = turn_writer.handler(sqs_event(retry_queue.bodies), None)
    return answer


@then("the turn writer stores them all")
def no_failure(turn_writer_answer: Answer) -> None:
    assert turn_writer_answer == {"batchItemFailures": []}


@when(
    "the turn writer is handed the first reply, a message that is no reply, and the second reply",
    target_fixture="turn_writer_answer",
)
def poison_batch(retry_queue: InMemoryRetryQueue) -> Answer:
    first, second = retry_queue.bodies
    answer: Answer = turn_writer.handler(
        sqs_event([first, '{"format": "something-else", "version": 9}', second]), None
    )
    return answer


@then("the turn writer sets aside only the message that is no reply")
def only_poison(turn_writer_answer: Answer) -> None:
    assert turn_writer_answer == {"batchItemFailures": [{"itemIdentifier": "sqs-1"}]}
