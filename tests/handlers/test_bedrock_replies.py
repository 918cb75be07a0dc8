"""The message handler with the real Bedrock adapter (wired by the container) and the real boto3
client, answered by the local event-stream stand-in."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from dependency_injector import providers

from adapters.bedrock import BedrockLanguageModel
from entrypoints.container import build_container
from testing.bedrock_standin import BedrockStandIn, ErrorReply, Stream
from testing.fakes import ManualClock
from testing.harness import Chat

CONN = "connBedrock01="
MODEL_ID = "anthropic.claude-haiku-4-5-20251001-v1:0"  # takes a temperature
REPLY = ("Volume 3", " of Frieren", " is in stock", " and ships", " in two days.")


@pytest.fixture
def bedrock() -> Iterator[BedrockStandIn]:
    with BedrockStandIn() as standin:
        yield standin


@pytest.fixture
def chat(bedrock: BedrockStandIn, monkeypatch: pytest.MonkeyPatch) -> Iterator[Chat]:
    """The container's own Bedrock model (LLM_PROVIDER=bedrock), its endpoint moved to the stand-in
    the way boto3 allows it in any deployment: AWS_ENDPOINT_URL_BEDROCK_RUNTIME."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", bedrock.url)
    container = build_container({"LLM_PROVIDER": "bedrock", "MODEL_ID": MODEL_ID, "LLM_MAX_TOKENS": "256"})
    model = container.adapters.llm()
    assert isinstance(model, BedrockLanguageModel)
    system = Chat(container=container, llm=model, clock=ManualClock())  # type: ignore[arg-type]
    assert system.connect(CONN, "cust-1") == 200
    yield system
    system.close()


def turns(chat: Chat) -> list[tuple[str, str, int]]:
    session_id = chat.repository.session_id_of_connection(CONN)
    return [(str(t.role), t.content, t.token_count) for t in chat.repository.history(session_id, 100)]


def test_a_streamed_reply_reaches_the_client_and_its_usage_becomes_the_token_count(
    chat: Chat, bedrock: BedrockStandIn
) -> None:
    bedrock.script(Stream(deltas=REPLY, input_tokens=80, output_tokens=11))
    assert chat.say(CONN, "Is Frieren 3 in stock?", "m-1") == 200
    chunks = chat.frames(CONN, "chunk")
    assert chunks and "".join(c["delta"] for c in chunks) == "".join(REPLY)
    assert chat.last(CONN)["content"] == "".join(REPLY)
    assert turns(chat)[-1] == ("assistant", "".join(REPLY), 11)
    [request] = bedrock.received
    assert request.model_id == MODEL_ID
    assert request.body["inferenceConfig"]["maxTokens"] == 256
    assert request.body["system"][0]["text"].startswith("You are MangaAssist")
    assert request.body["messages"] == [{"role": "user", "content": [{"text": "Is Frieren 3 in stock?"}]}]


def test_a_stream_broken_mid_reply_stores_nothing_and_the_same_message_id_then_succeeds(
    chat: Chat, bedrock: BedrockStandIn
) -> None:
    bedrock.script(Stream(deltas=REPLY, exception_after=3), Stream(deltas=REPLY))
    assert chat.say(CONN, "Is Frieren 3 in stock?", "m-1") == 503
    streamed = "".join(c["delta"] for c in chat.frames(CONN, "chunk"))
    assert streamed and "".join(REPLY[:3]).startswith(streamed)  # the first delta left at once
    assert chat.last(CONN)["type"] == "error" and chat.last(CONN)["code"] == "unavailable"
    assert [role for role, _, _ in turns(chat)] == ["user"]

    assert chat.say(CONN, "Is Frieren 3 in stock?", "m-1") == 200
    assert chat.last(CONN)["type"] == "message" and chat.last(CONN)["content"] == "".join(REPLY)
    assert [role for role, _, _ in turns(chat)] == ["user", "assistant"]
    assert len(bedrock.received) == 2
    # The retry sent the same question once, not twice: no second user turn reached the prompt.
    assert bedrock.received[1].body["messages"] == bedrock.received[0].body["messages"]


def test_a_throttled_model_that_recovers_answers_normally(chat: Chat, bedrock: BedrockStandIn) -> None:
    bedrock.script(
        ErrorReply(429, "ThrottlingException"), ErrorReply(429, "ThrottlingException"), Stream(deltas=REPLY)
    )
    assert chat.say(CONN, "Is Frieren 3 in stock?", "m-1") == 200
    assert chat.last(CONN)["content"] == "".join(REPLY)


def test_a_refused_request_is_an_internal_error_frame(chat: Chat, bedrock: BedrockStandIn) -> None:
    bedrock.script(ErrorReply(400, "ValidationException", "roles must alternate"))
    assert chat.say(CONN, "Is Frieren 3 in stock?", "m-1") == 500
    assert chat.last(CONN)["code"] == "internal"
    assert "alternate" not in chat.last(CONN)["message"]
    assert [role for role, _, _ in turns(chat)] == ["user"]


def test_the_fake_model_mode_never_imports_the_bedrock_adapter() -> None:
    code = (
        "import sys\n"
        "from entrypoints import connect, message, disconnect\n"
        "from entrypoints.container import build_container\n"
        "build_container({}).adapters.llm()\n"
        "assert 'adapters.bedrock' not in sys.modules, 'imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_default_model_thinks_in_private_and_pays_for_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default model (no MODEL_ID) refuses a temperature and streams reasoningContent: it gets none,
    no chunk or stored turn holds its thinking, and the thinking's tokens are in the usage."""
    from adapters.bedrock_models import DEFAULT_MODEL_ID
    from application.telemetry import TOKENS_OUT
    from testing.telemetry import RecordingTelemetry

    with BedrockStandIn(refuses_temperature=frozenset({DEFAULT_MODEL_ID})) as bedrock:
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", bedrock.url)
        container = build_container({"LLM_PROVIDER": "bedrock"})
        telemetry = RecordingTelemetry()
        container.adapters.telemetry.override(providers.Object(telemetry))
        system = Chat(container=container, llm=container.adapters.llm(), clock=ManualClock())
        try:
            assert system.connect(CONN, "cust-1") == 200
            thinking = ("The customer wants", " Frieren 3; check stock.")
            bedrock.script(Stream(reasoning=thinking, deltas=REPLY, output_tokens=40))
            assert system.say(CONN, "Is Frieren 3 in stock?", "m-1") == 200
            pushed = " ".join(str(frame) for frame in system.frames(CONN))
            assert "".join(REPLY) in system.last(CONN)["content"]
            assert not any(part in pushed for part in thinking)
            assert turns(system)[-1] == ("assistant", "".join(REPLY), 40)
            assert telemetry.total(TOKENS_OUT) == 40
            [request] = bedrock.received
            assert request.model_id == DEFAULT_MODEL_ID
            assert "temperature" not in request.body["inferenceConfig"]
        finally:
            system.close()
