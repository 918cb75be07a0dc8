"""``converse_stream`` for real: the boto3 ``bedrock-runtime`` client against a local stand-in that
speaks the AWS event-stream wire format, so botocore's decoder and parser run as in production."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from adapters.bedrock import STREAM_CONFIG, BedrockLanguageModel
from application.errors import ModelFailed, ModelUnavailable
from application.ports import Delta, Prompt, PromptMessage, ReplyEvent, Usage
from domain.model import Role
from testing.bedrock_standin import BedrockStandIn, ErrorReply, Stream

MODEL_ID = "anthropic.claude-haiku-4-5-20251001-v1:0"  # takes a temperature
PROMPT = Prompt(
    system=["You are MangaAssist."],
    messages=[PromptMessage(Role.USER, "Is Frieren 3 in stock?")],
    estimated_tokens=30,
)
# One HTTP attempt per call, so each scripted answer meets exactly one request of the adapter's own.
SINGLE_ATTEMPT = Config(
    connect_timeout=2, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 1}
)


@pytest.fixture
def bedrock() -> Iterator[BedrockStandIn]:
    with BedrockStandIn() as standin:
        yield standin


def model_for(
    standin: BedrockStandIn, config: Config = SINGLE_ATTEMPT, **kwargs: Any
) -> BedrockLanguageModel:
    client = boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=standin.url, config=config)
    return BedrockLanguageModel(
        MODEL_ID, max_tokens=300, temperature=0.1, client=client, sleep=lambda _: None, **kwargs
    )


def consume(events: Iterator[ReplyEvent]) -> tuple[list[str], list[ReplyEvent], Exception | None]:
    """What the caller saw: the deltas' text, every event, and the error that ended the stream."""
    seen: list[ReplyEvent] = []
    try:
        for event in events:
            seen.append(event)
    except Exception as error:
        return [e.text for e in seen if isinstance(e, Delta)], seen, error
    return [e.text for e in seen if isinstance(e, Delta)], seen, None


def test_deltas_then_usage_arrive_in_order(bedrock: BedrockStandIn) -> None:
    bedrock.script(Stream(deltas=("Yes", ", volume 3", " is in stock."), input_tokens=31, output_tokens=9))
    texts, events, error = consume(model_for(bedrock).stream_reply(PROMPT))
    assert error is None
    assert texts == ["Yes", ", volume 3", " is in stock."]
    assert events[-1] == Usage(input_tokens=31, output_tokens=9)
    [request] = bedrock.received
    assert request.operation == "converse-stream" and request.model_id == MODEL_ID
    assert request.body == {
        "system": [{"text": "You are MangaAssist."}],
        "messages": [{"role": "user", "content": [{"text": "Is Frieren 3 in stock?"}]}],
        "inferenceConfig": {"maxTokens": 300, "temperature": 0.1},
    }


def test_throttling_before_the_stream_is_retried_then_succeeds(bedrock: BedrockStandIn) -> None:
    bedrock.script(
        ErrorReply(429, "ThrottlingException"), ErrorReply(503, "ServiceUnavailableException"), Stream()
    )
    texts, _, error = consume(model_for(bedrock).stream_reply(PROMPT))
    assert error is None and "".join(texts) == "Hello from the stand-in."
    assert len(bedrock.received) == 3


def test_only_the_adapter_retries_the_stream_call(bedrock: BedrockStandIn) -> None:
    # botocore would also retry a read timeout, and two stalls outlive the message function: the
    # stream client makes one HTTP attempt per call, and the adapter's bounded retries decide.
    bedrock.script(*[ErrorReply(503, "ServiceUnavailableException")] * 6)
    _, events, error = consume(model_for(bedrock, config=STREAM_CONFIG).stream_reply(PROMPT))
    assert isinstance(error, ModelUnavailable) and events == []
    assert len(bedrock.received) == 3  # the adapter's 3 attempts, one HTTP request each


def test_an_error_event_before_the_first_delta_is_retried(bedrock: BedrockStandIn) -> None:
    bedrock.script(Stream(exception_after=0, exception_type="throttlingException"), Stream())
    texts, _, error = consume(model_for(bedrock).stream_reply(PROMPT))
    assert error is None and "".join(texts) == "Hello from the stand-in."
    assert len(bedrock.received) == 2


def test_a_read_timeout_before_the_first_event_is_retried(bedrock: BedrockStandIn) -> None:
    bedrock.script(Stream(stall_seconds=2.0), Stream())
    quick = Config(connect_timeout=2, read_timeout=0.3, retries={"mode": "standard", "total_max_attempts": 1})
    texts, _, error = consume(model_for(bedrock, config=quick).stream_reply(PROMPT))
    assert error is None and "".join(texts) == "Hello from the stand-in."
    assert len(bedrock.received) == 2


def test_throttled_on_every_attempt_the_model_is_unavailable(bedrock: BedrockStandIn) -> None:
    bedrock.script(*[ErrorReply(429, "ThrottlingException")] * 3)
    _, events, error = consume(model_for(bedrock).stream_reply(PROMPT))
    assert isinstance(error, ModelUnavailable) and events == []
    assert len(bedrock.received) == 3


def test_a_validation_error_fails_at_once(bedrock: BedrockStandIn) -> None:
    bedrock.script(ErrorReply(400, "ValidationException", "messages: roles must alternate"))
    _, _, error = consume(model_for(bedrock).stream_reply(PROMPT))
    assert isinstance(error, ModelFailed)
    assert len(bedrock.received) == 1


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        (Stream(exception_after=2), ModelUnavailable),  # modelStreamErrorException
        (Stream(exception_after=2, exception_type="throttlingException"), ModelUnavailable),
        (Stream(exception_after=2, exception_type="validationException"), ModelFailed),
        (Stream(drop_after=2), ModelUnavailable),  # the connection dropped mid-body
        (Stream(finished=False), ModelUnavailable),  # a clean end, but no messageStop
    ],
    ids=[
        "stream-error-event",
        "throttling-event",
        "validation-event",
        "dropped-connection",
        "no-message-stop",
    ],
)
def test_a_stream_broken_mid_reply_raises_after_its_deltas_and_is_never_replayed(
    bedrock: BedrockStandIn, stream: Stream, expected: type[Exception]
) -> None:
    bedrock.script(stream, Stream(deltas=("must", " not", " be", " asked", " for")))
    texts, events, error = consume(model_for(bedrock).stream_reply(PROMPT))
    assert isinstance(error, expected)
    assert texts == list(stream.deltas[:2]) or texts == list(stream.deltas)
    assert not any(isinstance(e, Usage) for e in events)
    assert len(bedrock.received) == 1  # no second call: a half-streamed reply is never replayed


def test_complete_uses_converse(bedrock: BedrockStandIn) -> None:
    text, usage = model_for(bedrock).complete(PROMPT)
    assert text == "A whole reply."
    assert usage == Usage(42, 3)
    assert bedrock.received[0].operation == "converse"
