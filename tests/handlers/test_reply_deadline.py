"""A reply's deadline, through the real message handler: a reply still streaming when the deadline
comes is stored with what was written and a visible mark; one with nothing written yet is refused
(unavailable) and its message id freed; a silent stream cannot hold the reply past it, nor can slow
pushes; the reply is stored before any push past the deadline, and no push outlives the function."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from dependency_injector import providers

from application.deadline import CUT_SHORT_MARK
from application.ports import Delta, Prompt, ReplyEvent, Usage
from application.telemetry import REPLIES_CUT_SHORT, REPLIES_UNDELIVERED
from entrypoints import message
from entrypoints.deadlines import API_GATEWAY_SECONDS, MARGIN_SECONDS, reply_deadline
from testing.fakes import ManualClock
from testing.harness import Chat, message_event
from testing.telemetry import RecordingTelemetry

CONN = "connDeadline1="
WORDS = [f"word{i} " for i in range(20)]
# Each long enough to be pushed on its own, however quickly the next one follows.
LONG_WORDS = [f"word{i}{'o' * 200} " for i in range(20)]


class Killed(BaseException):
    """Lambda ending the function: nothing after it runs."""


class SlowModel:
    """Each delta costs ``seconds_per_delta`` on the test's clock, and the next one is not made before
    the last one was pushed (``pushed``), as in real time; ``stall`` blocks before a delta until
    released (a silent stream)."""

    def __init__(
        self, clock: Any = None, seconds_per_delta: float = 0.0, first_delay: float = 0.0, words: Any = WORDS
    ) -> None:
        self.clock = clock
        self.words = words
        self.seconds_per_delta = seconds_per_delta
        self.first_delay = first_delay
        self.stall_before: int | None = None
        self.release = threading.Event()
        self.pushed = threading.Event()
        self.calls = 0

    def stream_reply(self, _prompt: Prompt) -> Iterator[ReplyEvent]:
        self.calls += 1
        if self.clock is not None:
            self.clock.advance(self.first_delay)
        for index, word in enumerate(self.words):
            if index == self.stall_before:
                self.release.wait(timeout=30)
            if self.clock is not None:
                self.clock.advance(self.seconds_per_delta)
            yield Delta(word)
            if self.seconds_per_delta:
                self.pushed.wait(timeout=5)
                self.pushed.clear()
        yield Usage(50, len(self.words))

    def complete(self, _prompt: Prompt) -> tuple[str, Usage]:
        return "summary", Usage(1, 1)


class TimedPushes:
    """The harness's notifier, each push costing ``seconds`` on the test's clock. The first push
    started after ``killed_after`` takes a minute (past the function's end) and never returns: Lambda
    ends the function during it (``Killed``, once the test lets go)."""

    def __init__(self, chat: Chat, clock: ManualClock, model: SlowModel, seconds: float = 0.0) -> None:
        self.chat, self.inner, self.clock, self.model, self.seconds = (
            chat,
            chat.notifier,
            clock,
            model,
            seconds,
        )
        self.killed_after: float | None = None
        self.killed = False
        self.stored_when_killed: list[tuple[str, str]] = []
        self.release = threading.Event()
        chat.container.adapters.notifier.override(providers.Object(self))

    def push(self, connection_id: str, frame: Any) -> None:
        if self.killed_after is not None and self.clock.monotonic() > self.killed_after and not self.killed:
            self.killed = True
            self.stored_when_killed = stored_turns(self.chat)
            self.clock.advance(60)
            self.release.wait(timeout=5)
            raise Killed
        self.clock.advance(self.seconds)
        self.inner.push(connection_id, frame)
        self.model.pushed.set()

    def close(self, connection_id: str) -> None:
        self.inner.close(connection_id)


def lambda_context(remaining_seconds: float) -> SimpleNamespace:
    deadline = time.monotonic() + remaining_seconds
    return SimpleNamespace(
        aws_request_id="lambda-req-deadline",
        function_name="message",
        get_remaining_time_in_millis=lambda: int((deadline - time.monotonic()) * 1000),
    )


def send(message_id: str, remaining_seconds: float) -> int:
    """The frame as API Gateway delivers it now, to a function with this much time left."""
    body = {"action": "sendMessage", "message": "Tell me everything about Frieren.", "message_id": message_id}
    event = message_event(CONN, body)
    event["requestContext"]["requestTimeEpoch"] = int(time.time() * 1000)
    return int(message.handler(event, lambda_context(remaining_seconds))["statusCode"])


@pytest.fixture
def telemetry(chat: Chat) -> RecordingTelemetry:
    recording = RecordingTelemetry()
    chat.container.adapters.telemetry.override(providers.Object(recording))
    return recording


def answering_with(chat: Chat, model: SlowModel) -> SlowModel:
    chat.container.adapters.llm.override(providers.Object(model))
    assert chat.connect(CONN, "cust-1") == 200
    return model


def stored_turns(chat: Chat) -> list[tuple[str, str]]:
    session_id = chat.repository.session_id_of_connection(CONN)
    return [(str(t.role), t.content) for t in chat.repository.history(session_id, 100)]


def test_a_reply_streaming_at_its_deadline_is_stored_with_what_was_written_and_marked(
    chat: Chat, clock: ManualClock, telemetry: RecordingTelemetry
) -> None:
    model = answering_with(chat, SlowModel(clock, seconds_per_delta=1.0, words=LONG_WORDS))
    TimedPushes(chat, clock, model)
    # 15 s left: the reply must stop 10 s in, on the test's clock, with half its words unwritten.
    assert send("m-1", remaining_seconds=MARGIN_SECONDS + 10) == 200
    [_, (role, reply)] = stored_turns(chat)
    assert role == "assistant" and reply.endswith(CUT_SHORT_MARK)
    written = reply.removesuffix(CUT_SHORT_MARK)
    assert written and "".join(LONG_WORDS).startswith(written) and written != "".join(LONG_WORDS)
    streamed = "".join(c["delta"] for c in chat.frames(CONN, "chunk"))
    assert streamed == reply == chat.last(CONN)["content"]
    assert telemetry.total(REPLIES_CUT_SHORT) == 1
    # The message id is answered: sent again, the stored reply comes back, no second model call.
    assert send("m-1", remaining_seconds=60) == 200
    assert chat.last(CONN)["content"] == reply and model.calls == 1


def test_a_reply_with_nothing_written_by_its_deadline_is_refused_and_its_id_freed(
    chat: Chat, clock: ManualClock, telemetry: RecordingTelemetry
) -> None:
    model = answering_with(chat, SlowModel(clock, first_delay=30.0))
    assert send("m-1", remaining_seconds=MARGIN_SECONDS + 10) == 503
    assert chat.last(CONN)["code"] == "unavailable"
    assert [role for role, _ in stored_turns(chat)] == ["user"]
    assert telemetry.total(REPLIES_CUT_SHORT) == 0
    model.first_delay = 0.0  # the retry, at once: the lease was given back
    assert send("m-1", remaining_seconds=60) == 200
    assert [role for role, _ in stored_turns(chat)] == ["user", "assistant"]
    assert not stored_turns(chat)[-1][1].endswith(CUT_SHORT_MARK)


def test_a_silent_stream_cannot_hold_the_reply_past_its_deadline() -> None:
    """Real time: the model goes silent after three words and would stay so for 30 s."""
    chat = Chat()
    model = SlowModel()
    model.stall_before = 3
    try:
        answering_with(chat, model)
        assert send("m-1", remaining_seconds=MARGIN_SECONDS + 0.5) == 200
        assert stored_turns(chat)[-1] == ("assistant", "".join(WORDS[:3]) + CUT_SHORT_MARK)
    finally:
        model.release.set()
        chat.close()


def test_the_deadline_is_api_gateways_or_the_functions_whichever_comes_first(clock: ManualClock) -> None:
    now = 1_796_000_000.0
    received_3s_ago = {"requestContext": {"requestTimeEpoch": int((now - 3) * 1000)}}
    roomy = SimpleNamespace(get_remaining_time_in_millis=lambda: 60_000)
    short = SimpleNamespace(get_remaining_time_in_millis=lambda: 10_000)
    start = clock.monotonic()
    by_api_gateway = reply_deadline(roomy, received_3s_ago, clock, wall=lambda: now)
    assert by_api_gateway is not None
    assert by_api_gateway.at - start == API_GATEWAY_SECONDS - 3 - MARGIN_SECONDS
    by_lambda = reply_deadline(short, received_3s_ago, clock, wall=lambda: now)
    assert by_lambda is not None and by_lambda.at - start == 10 - MARGIN_SECONDS
    assert reply_deadline(None, received_3s_ago, clock) is None  # no Lambda context: tests, tools


def test_slow_pushes_cannot_hold_the_reply_past_its_deadline(
    chat: Chat, clock: ManualClock, telemetry: RecordingTelemetry
) -> None:
    """The model is quick, every delta in before the deadline; pushing each takes a second: the reply
    stops once the pushes have spent its time, not after all of them."""
    model = answering_with(chat, SlowModel(words=LONG_WORDS))
    TimedPushes(chat, clock, model, seconds=1.0)
    assert send("m-1", remaining_seconds=MARGIN_SECONDS + 10) == 200
    [_, (_, reply)] = stored_turns(chat)
    written = reply.removesuffix(CUT_SHORT_MARK)
    assert reply.endswith(CUT_SHORT_MARK) and written and "".join(LONG_WORDS).startswith(written)
    assert len(written.split()) <= 11 and telemetry.total(REPLIES_CUT_SHORT) == 1


def test_the_reply_is_stored_before_any_push_past_its_deadline_and_no_push_outlives_the_function(
    chat: Chat, clock: ManualClock, telemetry: RecordingTelemetry
) -> None:
    """The first push past the deadline would be ended by Lambda: the reply is stored already, and
    the handler does not wait for that push beyond the function's end (the customer sees the reply on
    resume)."""
    model = answering_with(chat, SlowModel(words=LONG_WORDS))
    pushes = TimedPushes(chat, clock, model, seconds=1.0)
    pushes.killed_after = clock.monotonic() + 9.5  # the deadline is 10 s away
    try:
        assert send("m-1", remaining_seconds=MARGIN_SECONDS + 10) == 200
        assert pushes.killed
        assert pushes.stored_when_killed == stored_turns(chat)  # the reply was stored before that push
        [_, (role, reply)] = stored_turns(chat)
        assert role == "assistant" and reply.endswith(CUT_SHORT_MARK)
        assert telemetry.total(REPLIES_UNDELIVERED) == 1
        assert not chat.frames(CONN, "message")  # its message frame was never pushed
    finally:
        pushes.release.set()
