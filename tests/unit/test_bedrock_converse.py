"""The Bedrock adapter's requests and error mapping, against the real ``bedrock-runtime`` client with
botocore's Stubber: every request is checked against the service model. (The Stubber cannot make an
event stream; tests/integration/test_bedrock_stream.py covers ``converse_stream`` for real.)"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from adapters.bedrock import COMPLETE_CONFIG, STREAM_CONFIG, BedrockLanguageModel, RetryPolicy
from application.errors import ModelFailed, ModelUnavailable
from application.ports import Prompt, PromptMessage, Usage
from domain.model import Role

MODEL_ID = "anthropic.claude-haiku-4-5-20251001-v1:0"  # takes a temperature
SECRET = "my order number is 4417-SECRET"
PROMPT = Prompt(
    system=["You are MangaAssist.", "Summary of the conversation so far:\nvolumes"],
    messages=[
        PromptMessage(Role.USER, "Is Frieren 3 in stock?"),
        PromptMessage(Role.ASSISTANT, "Yes, it is."),
        PromptMessage(Role.USER, SECRET),
    ],
    estimated_tokens=120,
)
EXPECTED_REQUEST = {
    "modelId": MODEL_ID,
    "system": [{"text": "You are MangaAssist."}, {"text": "Summary of the conversation so far:\nvolumes"}],
    "messages": [
        {"role": "user", "content": [{"text": "Is Frieren 3 in stock?"}]},
        {"role": "assistant", "content": [{"text": "Yes, it is."}]},
        {"role": "user", "content": [{"text": SECRET}]},
    ],
    "inferenceConfig": {"maxTokens": 512, "temperature": 0.2},
}
REPLY = {
    "output": {
        "message": {"role": "assistant", "content": [{"text": "Conversation "}, {"text": "summary."}]}
    },
    "stopReason": "end_turn",
    "usage": {"inputTokens": 118, "outputTokens": 3, "totalTokens": 121},
    "metrics": {"latencyMs": 310},
}


@pytest.fixture
def stubbed() -> Iterator[tuple[BedrockLanguageModel, Stubber, list[float]]]:
    client = boto3.client("bedrock-runtime", region_name="us-east-1")
    sleeps: list[float] = []
    model = BedrockLanguageModel(
        MODEL_ID, max_tokens=512, temperature=0.2, client=client, sleep=sleeps.append, draw=lambda: 1.0
    )
    with Stubber(client) as stubber:
        yield model, stubber, sleeps
        stubber.assert_no_pending_responses()


def test_complete_sends_the_prompt_as_the_service_model_wants_it(stubbed: Any) -> None:
    model, stubber, _ = stubbed
    stubber.add_response("converse", REPLY, EXPECTED_REQUEST)
    text, usage = model.complete(PROMPT)
    assert text == "Conversation summary."
    assert usage == Usage(input_tokens=118, output_tokens=3)


def test_a_prompt_without_system_text_sends_no_system_block(stubbed: Any) -> None:
    model, stubber, _ = stubbed
    bare = Prompt(system=[], messages=[PromptMessage(Role.USER, "hi")], estimated_tokens=5)
    expected = {k: v for k, v in EXPECTED_REQUEST.items() if k != "system"}
    expected["messages"] = [{"role": "user", "content": [{"text": "hi"}]}]
    stubber.add_response("converse", REPLY, expected)
    model.complete(bare)


def test_converse_stream_requests_are_valid_for_the_service_model(stubbed: Any) -> None:
    model, stubber, _ = stubbed
    stubber.add_client_error(
        "converse_stream", "AccessDeniedException", http_status_code=403, expected_params=EXPECTED_REQUEST
    )
    with pytest.raises(ModelFailed):
        list(model.stream_reply(PROMPT))


@pytest.mark.parametrize(
    "code",
    [
        "ThrottlingException",
        "ModelNotReadyException",
        "ServiceUnavailableException",
        "InternalServerException",
        "ModelTimeoutException",
    ],
)
def test_transient_errors_are_retried_with_backoff_then_succeed(stubbed: Any, code: str) -> None:
    model, stubber, sleeps = stubbed
    stubber.add_client_error("converse", code, http_status_code=429)
    stubber.add_client_error("converse", code, http_status_code=429)
    stubber.add_response("converse", REPLY, EXPECTED_REQUEST)
    assert model.complete(PROMPT)[0] == "Conversation summary."
    assert sleeps == [0.25, 0.5]  # full jitter drawn at its maximum: the capped exponential steps


def test_retries_are_bounded_then_the_model_is_unavailable(stubbed: Any) -> None:
    model, stubber, sleeps = stubbed
    for _ in range(3):
        stubber.add_client_error("converse", "ThrottlingException", http_status_code=429)
    with pytest.raises(ModelUnavailable):
        model.complete(PROMPT)
    assert len(sleeps) == 2


def test_backoff_is_capped() -> None:
    policy = RetryPolicy(attempts=10, base_seconds=0.25, cap_seconds=2.0)
    assert [policy.delay(n, lambda: 1.0) for n in range(6)] == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]
    assert policy.delay(5, lambda: 0.0) == 0.0


@pytest.mark.parametrize(
    "code", ["ValidationException", "AccessDeniedException", "ResourceNotFoundException"]
)
def test_refused_requests_are_our_bug_logged_by_shape_and_never_retried(
    stubbed: Any, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    model, stubber, sleeps = stubbed
    stubber.add_client_error("converse", code, "Malformed input request", http_status_code=400)
    with caplog.at_level(logging.ERROR, logger="adapters.bedrock"), pytest.raises(ModelFailed):
        model.complete(PROMPT)
    assert sleeps == []
    [record] = [r for r in caplog.records if r.name == "adapters.bedrock"]
    shape = record.request_shape  # type: ignore[attr-defined]
    assert shape["model_id"] == MODEL_ID
    assert [m["role"] for m in shape["messages"]] == ["user", "assistant", "user"]
    assert shape["messages"][2]["chars"] == len(SECRET)
    assert shape["system_chars"] == [len(s) for s in PROMPT.system]
    assert "SECRET" not in repr(record.__dict__) and "Frieren" not in repr(record.__dict__)


def test_each_operation_gets_its_own_client_made_lazily_and_once() -> None:
    client = boto3.client("bedrock-runtime", region_name="us-east-1")
    made: list[Config] = []

    def factory(config: Config) -> Any:
        made.append(config)
        return client

    model = BedrockLanguageModel(MODEL_ID, max_tokens=512, temperature=0.2, client_factory=factory)
    assert made == []
    with Stubber(client) as stubber:
        stubber.add_response("converse", REPLY, EXPECTED_REQUEST)
        stubber.add_response("converse", REPLY, EXPECTED_REQUEST)
        model.complete(PROMPT)
        model.complete(PROMPT)
    assert made == [COMPLETE_CONFIG]
    # converse sends nothing until the whole answer is written: its client waits longer
    assert COMPLETE_CONFIG.read_timeout > STREAM_CONFIG.read_timeout  # type: ignore[attr-defined]


def test_no_retry_starts_once_the_retry_window_has_passed() -> None:
    client = boto3.client("bedrock-runtime", region_name="us-east-1")
    now = iter([0.0, 12.0])  # the first attempt took 12 s (a model timeout, say)
    model = BedrockLanguageModel(
        MODEL_ID,
        max_tokens=512,
        temperature=0.2,
        client=client,
        sleep=lambda _: None,
        monotonic=lambda: next(now),
    )
    with Stubber(client) as stubber:
        stubber.add_client_error("converse", "ModelTimeoutException", http_status_code=408)
        with pytest.raises(ModelUnavailable):
            model.complete(PROMPT)
        stubber.assert_no_pending_responses()
