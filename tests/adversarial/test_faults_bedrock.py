"""The real Bedrock adapter (as the container wires it, with the real boto3 client) failing against
the local event-stream stand-in: refused or throttled before the stream, broken in its middle,
dropped, cut short. The customer retries; the reply is stored once, the question once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.retries.standard import ExponentialBackoff

from adapters.bedrock_models import DEFAULT_MODEL_ID
from application.ports import Prompt, ReplyEvent
from entrypoints.container import build_container
from testing.bedrock_standin import BedrockStandIn, ErrorReply, Script, Stream
from testing.fakes import ManualClock
from tests.adversarial.customer import Customer, audit
from tests.adversarial.systems import StrictChat

THROTTLED = ErrorReply(429, "ThrottlingException")
SCRIPTS: dict[str, list[Script]] = {
    "throttled once (retried inside)": [THROTTLED],
    "throttled past every retry": [THROTTLED] * 6,
    "unavailable (503)": [ErrorReply(503, "ServiceUnavailableException")],
    "refused: our request is invalid": [ErrorReply(400, "ValidationException")],
    "stream error before any delta": [Stream(exception_after=0)],
    "stream error mid-stream": [Stream(exception_after=2)],
    "throttled mid-stream": [Stream(exception_after=2, exception_type="throttlingException")],
    "connection dropped mid-stream": [Stream(drop_after=2)],
    "stream ends without messageStop": [Stream(finished=False)],
    # The default model thinks first (reasoningContent): its thinking is never the reply.
    "thinking, then the reply": [Stream(reasoning=("The customer asks", " about stock."))],
    "thinking, then the connection drops": [Stream(reasoning=("Let me see",), deltas=(), drop_after=0)],
    "thinking, then a stream error mid-reply": [Stream(reasoning=("Hmm.",), exception_after=2)],
}
THOUGHTS = ("The customer asks", "Let me see", "Hmm.")


class CountingModel:
    """The adapter, with a record of the calls the application made (``prompts``, as the fake has)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.prompts: list[Prompt] = []

    def stream_reply(self, prompt: Prompt) -> Iterator[ReplyEvent]:
        self.prompts.append(prompt)
        return self.inner.stream_reply(prompt)  # type: ignore[no-any-return]

    def complete(self, prompt: Prompt) -> Any:
        return self.inner.complete(prompt)


@pytest.fixture
def bedrock(monkeypatch: pytest.MonkeyPatch) -> Iterator[BedrockStandIn]:
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda _self, _context: 0)  # botocore's own waits
    # As Bedrock does for the default model: a temperature would be refused (400).
    with BedrockStandIn(refuses_temperature=frozenset({DEFAULT_MODEL_ID})) as standin:
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", standin.url)
        yield standin


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_bedrock_failing(bedrock: BedrockStandIn, name: str) -> None:
    container = build_container({"LLM_PROVIDER": "bedrock", "LLM_MAX_TOKENS": "256"})
    clock = ManualClock()
    chat = StrictChat(container=container, llm=CountingModel(container.adapters.llm()), clock=clock)
    try:
        customer = Customer(chat, clock).connect()
        customer.ask("warm-up")
        bedrock.script(*SCRIPTS[name])

        customer.ask("m-1")

        question = customer.asked["m-1"]
        requests = [
            r for r in bedrock.received if r.body["messages"][-1]["content"][0]["text"].endswith(question)
        ]
        failures = sum(1 for status in customer.statuses["m-1"] if status != 200)
        assert len(requests) <= len(SCRIPTS[name]) + 1, "the model was asked again after it had answered"
        seen = " ".join(str(frame) for frames in chat.notifier.frames.values() for frame in frames)
        assert not any(thought in seen for thought in THOUGHTS), "the model's thinking reached the client"
        audit(customer, "Bedrock adapter", name, http_requests=len(requests), failed_attempts=failures)
    finally:
        chat.close()
