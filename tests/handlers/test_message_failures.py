"""The message path when things fail: the model, the client's socket, the store."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from dependency_injector import providers

from application.errors import ModelFailed, ModelUnavailable
from application.ports import Frame, Notifier
from domain.model import SessionStatus
from entrypoints.container import message_bus
from testing.fakes import FlakyRepository, ListRetryQueue, ManualClock
from testing.harness import Chat

CONN = "connFail0001="


@pytest.fixture
def session_id(chat: Chat) -> str:
    assert chat.connect(CONN, "cust-1") == 200
    session_id: str | None = chat.repository.session_id_of_connection(CONN)
    assert session_id is not None
    return session_id


def turns(chat: Chat, session_id: str) -> list[tuple[str, str]]:
    return [(str(t.role), t.content) for t in chat.repository.history(session_id, 100)]


@pytest.mark.parametrize("after", [0, 3])
def test_a_model_failure_stores_no_reply_and_the_same_id_then_succeeds(
    chat: Chat, session_id: str, after: int
) -> None:
    chat.llm.fail_next(ModelUnavailable("throttled"), after_deltas=after)
    assert chat.say(CONN, "Is Blue Period vol. 2 in stock?", "m-1") == 503
    assert chat.last(CONN)["code"] == "unavailable"
    assert turns(chat, session_id) == [("user", "Is Blue Period vol. 2 in stock?")]

    assert chat.say(CONN, "Is Blue Period vol. 2 in stock?", "m-1") == 200
    assert chat.last(CONN)["type"] == "message" and chat.last(CONN)["reply_to"] == "m-1"
    assert [role for role, _ in turns(chat, session_id)] == ["user", "assistant"]
    assert chat.repository.get(session_id).turn_count == 2
    assert chat.llm.calls == 2


@pytest.mark.usefixtures("session_id")
def test_a_model_that_rejects_our_request_is_an_internal_error(chat: Chat) -> None:
    chat.llm.fail_next(ModelFailed("ValidationException"))
    assert chat.say(CONN, "hello", "m-1") == 500
    assert chat.last(CONN)["code"] == "internal"
    assert "ValidationException" not in chat.last(CONN)["message"]


def test_a_message_being_answered_elsewhere_is_a_conflict_until_its_lease_ends(
    chat: Chat, session_id: str, clock: ManualClock
) -> None:
    # Another invocation stored the user turn and is still answering (or died holding the lease).
    from application.send_message import SendMessageCommand

    bus = message_bus(chat.container, chat.notifier)
    use_case = chat.container.use_cases.send_message(notifier=chat.notifier, events=bus)
    chat.llm.fail_next(RuntimeError("the process died here"))
    with pytest.raises(RuntimeError):
        use_case(SendMessageCommand(CONN, "where is my order?", "m-9"))
    record = chat.repository.message_record(session_id, "m-9")
    assert record.reply is None and record.lease_until is None  # released on failure

    chat.repository.claim_message(session_id, "m-9", clock.now(), clock.now() + timedelta(seconds=45))
    assert chat.say(CONN, "where is my order?", "m-9") == 409
    assert chat.last(CONN)["code"] == "conflict"
    clock.advance(46)
    assert chat.say(CONN, "where is my order?", "m-9") == 200
    assert [role for role, _ in turns(chat, session_id)] == ["user", "assistant"]


def test_a_client_that_leaves_mid_reply_still_gets_its_reply_stored(chat: Chat, session_id: str) -> None:
    chat.llm._reply_words = 400  # long enough for several chunks
    chat.notifier.gone_after[CONN] = 1  # one chunk reaches the client, then the socket is gone
    assert chat.say(CONN, "recommend me something", "m-1") == 200
    assert len(chat.frames(CONN, "chunk")) == 1 and chat.frames(CONN, "message") == []
    assert [role for role, _ in turns(chat, session_id)] == ["user", "assistant"]
    session = chat.repository.get(session_id)
    assert session.status is SessionStatus.DISCONNECTED and session.connection_id is None


def test_a_reply_the_table_refuses_goes_to_the_retry_queue_and_the_client_still_gets_it(
    chat: Chat, session_id: str
) -> None:
    flaky = FlakyRepository(chat.repository)
    queue = ListRetryQueue()
    chat.container.adapters.repository.override(providers.Object(flaky))
    chat.container.adapters.retry_queue.override(providers.Object(queue))
    flaky.fail("complete_exchange")
    assert chat.say(CONN, "Do you ship to Canada?", "m-1") == 200
    assert chat.last(CONN)["type"] == "message"
    assert len(queue.items) == 1 and queue.items[0].message_id == "m-1"
    assert [role for role, _ in turns(chat, session_id)] == ["user"]  # the turn writer stores it later


def test_with_no_retry_queue_a_refused_reply_fails_loudly_and_frees_the_message(
    chat: Chat, session_id: str
) -> None:
    flaky = FlakyRepository(chat.repository)
    chat.container.adapters.repository.override(providers.Object(flaky))
    chat.container.adapters.retry_queue.override(providers.Object(None))  # memory mode has one otherwise
    flaky.fail("complete_exchange")
    assert chat.say(CONN, "Do you ship to Canada?", "m-1") == 503
    assert chat.last(CONN)["code"] == "unavailable"
    assert chat.frames(CONN, "message") == []
    assert chat.say(CONN, "Do you ship to Canada?", "m-1") == 200  # the retry answers it
    assert [role for role, _ in turns(chat, session_id)] == ["user", "assistant"]


def test_an_unavailable_store_before_anything_is_written_is_a_clean_503(chat: Chat, session_id: str) -> None:
    flaky = FlakyRepository(chat.repository)
    chat.container.adapters.repository.override(providers.Object(flaky))
    flaky.fail("record_message")
    assert chat.say(CONN, "hello", "m-1") == 503
    assert turns(chat, session_id) == [] and chat.llm.calls == 0


def test_during_a_handoff_the_bot_stays_silent(chat: Chat, session_id: str, clock: ManualClock) -> None:
    current = chat.repository.get(session_id)
    chat.repository.replace(current, current.hand_off(clock.now(), timedelta(hours=1)))
    assert chat.say(CONN, "I want a human", "m-1") == 200
    assert chat.llm.calls == 0
    assert turns(chat, session_id) == [("user", "I want a human")]
    assert chat.frames(CONN, "chunk") == [] and chat.frames(CONN, "message") == []


def test_a_lone_surrogate_is_refused_and_stores_nothing(chat: Chat, session_id: str) -> None:
    assert chat.send(CONN, '{"action": "sendMessage", "message": "hi \\ud800 there"}') == 400
    assert chat.last(CONN)["code"] == "bad_request"
    assert turns(chat, session_id) == [] and chat.llm.calls == 0
    assert chat.send(CONN, {"action": "history"}) == 200


@pytest.mark.usefixtures("session_id")
def test_a_history_too_large_for_one_frame_comes_whole_in_parts(chat: Chat) -> None:
    for n in range(40):
        assert chat.say(CONN, f"{n:02d} " + "漫画" * 1500, f"m-{n}") == 200
    assert chat.send(CONN, {"action": "history", "limit": 80}) == 200
    frames = chat.frames(CONN, "history")
    assert len(frames) > 1 and [f["part"] for f in frames] == list(range(frames[0]["parts"]))
    assert all(len(json.dumps(f, ensure_ascii=False).encode()) <= 32 * 1024 for f in frames)
    entries = [entry for frame in frames for entry in frame["turns"]]
    assert len(entries) == 80  # every turn, none cut: each fits a frame of its own
    assert entries[0]["content"].startswith("00 ") and entries[-2]["content"].startswith("39 ")


def test_a_management_api_failing_mid_reply_still_stores_the_reply(chat: Chat, session_id: str) -> None:
    chat.llm._reply_words = 400
    failing = _FailingAfter(chat.notifier, pushes=1)
    chat.container.adapters.notifier.override(providers.Object(failing))
    assert chat.say(CONN, "recommend me something", "m-1") == 200
    assert [role for role, _ in turns(chat, session_id)] == ["user", "assistant"]
    assert chat.repository.get(session_id).status is SessionStatus.ACTIVE  # not gone: just unreachable
    chat.container.adapters.notifier.override(providers.Object(chat.notifier))
    assert chat.say(CONN, "recommend me something", "m-1") == 200  # the retry gets the stored reply
    assert chat.last(CONN)["type"] == "message" and chat.llm.calls == 1


class _FailingAfter:
    def __init__(self, inner: Notifier, pushes: int) -> None:
        self.inner, self.left = inner, pushes

    def push(self, connection_id: str, frame: Frame) -> None:
        from application.errors import Unavailable

        if self.left <= 0:
            raise Unavailable("post_to_connection: 503")
        self.left -= 1
        self.inner.push(connection_id, frame)

    def close(self, connection_id: str) -> None:
        self.inner.close(connection_id)


@pytest.mark.usefixtures("session_id")
def test_a_client_gone_before_its_answer_is_not_our_fault(chat: Chat) -> None:
    assert chat.say(CONN, "hello", "m-1") == 200
    chat.notifier.gone.add(CONN)
    assert chat.send(CONN, {"action": "session"}) == 410
    assert chat.say(CONN, "hello", "m-1") == 200  # the stored reply's push finds the client gone
    assert chat.llm.calls == 1


def test_a_message_during_a_handoff_frees_its_id_and_a_repeat_is_a_quiet_success(
    chat: Chat, session_id: str, clock: ManualClock
) -> None:
    current = chat.repository.get(session_id)
    chat.repository.replace(current, current.hand_off(clock.now(), timedelta(hours=1)))
    assert chat.say(CONN, "I want a human", "m-1") == 200
    assert chat.repository.message_record(session_id, "m-1").lease_until is None
    assert chat.say(CONN, "I want a human", "m-1") == 200
    assert turns(chat, session_id) == [("user", "I want a human")] and chat.llm.calls == 0


def test_a_pending_write_for_a_session_cleaned_up_meanwhile_is_let_go(chat: Chat, session_id: str) -> None:
    from adapters.memory_retry_queue import InMemoryRetryQueue
    from entrypoints import turn_writer
    from testing.harness import sqs_record

    flaky, queue = FlakyRepository(chat.repository), InMemoryRetryQueue()
    chat.container.adapters.repository.override(providers.Object(flaky))
    chat.container.adapters.retry_queue.override(providers.Object(queue))
    chat.auto_settle = False
    flaky.fail("complete_exchange")
    assert chat.say(CONN, "hello", "m-1") == 200
    chat.repository.delete_session(session_id)  # what session_cleanup does after the TTL expiry
    response = turn_writer.handler({"Records": [sqs_record("sqs-1", queue.bodies[0])]}, None)
    assert response == {"batchItemFailures": []}
