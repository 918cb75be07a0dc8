"""What each model accepts, on the wire: the real boto3 client against the event-stream stand-in,
which refuses a temperature for the models that take none and streams ``reasoningContent`` as the
thinking models do."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from adapters.bedrock import BedrockLanguageModel
from adapters.bedrock_models import DEFAULT_MODEL_ID, UNKNOWN, base_model_id, is_inference_profile, traits_of
from application.errors import ModelFailed
from application.ports import Delta, Prompt, PromptMessage, Usage
from domain.model import Role
from testing.bedrock_standin import BedrockStandIn, Completion, Stream

HAIKU_45 = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
UNKNOWN_THINKER = "acme.thinker-v9"  # not in the table: may think, and may not be told otherwise
PROMPT = Prompt(
    system=["You are MangaAssist."],
    messages=[PromptMessage(Role.USER, "Which volume of Frieren is next?")],
    estimated_tokens=30,
)
SINGLE_ATTEMPT = Config(read_timeout=5, retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture
def bedrock() -> Iterator[BedrockStandIn]:
    with BedrockStandIn(
        refuses_temperature=frozenset({DEFAULT_MODEL_ID}),
        thinks_unless_disabled=frozenset({DEFAULT_MODEL_ID, UNKNOWN_THINKER}),
    ) as standin:
        yield standin


def client_for(standin: BedrockStandIn) -> object:
    return boto3.client(
        "bedrock-runtime", region_name="us-east-1", endpoint_url=standin.url, config=SINGLE_ATTEMPT
    )


def model(standin: BedrockStandIn, model_id: str, max_tokens: int = 1024) -> BedrockLanguageModel:
    return BedrockLanguageModel(
        model_id, max_tokens=max_tokens, temperature=0.3, client=client_for(standin), sleep=lambda _: None
    )


@pytest.mark.parametrize(
    ("model_id", "base"),
    [
        ("global.anthropic.claude-haiku-5-5", "anthropic.claude-haiku-5-5"),
        ("eu.anthropic.claude-haiku-5-5", "anthropic.claude-haiku-5-5"),
        ("anthropic.claude-haiku-5-5", "anthropic.claude-haiku-5-5"),
        (
            "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-haiku-5-5",
            "anthropic.claude-haiku-5-5",
        ),
        (
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0",
            "anthropic.claude-haiku-4-5-20251001-v1:0",
        ),
    ],
)
def test_a_model_is_known_by_its_base_id_whatever_reaches_it(model_id: str, base: str) -> None:
    assert base_model_id(model_id) == base
    assert traits_of(model_id) is traits_of(base) is not UNKNOWN


def test_profiles_are_told_from_models() -> None:
    assert is_inference_profile("global.anthropic.claude-haiku-5-5")
    assert is_inference_profile("arn:aws:bedrock:us-east-1:1:inference-profile/us.anthropic.claude-x")
    assert not is_inference_profile("anthropic.claude-haiku-4-5-20251001-v1:0")
    assert not is_inference_profile("arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-x")


def test_the_default_model_is_supported_and_reached_through_an_inference_profile() -> None:
    traits = traits_of(DEFAULT_MODEL_ID)
    assert traits is not UNKNOWN and is_inference_profile(DEFAULT_MODEL_ID)
    assert not traits.temperature_allowed and traits.supports_prompt_cache


def test_the_stand_in_refuses_a_temperature_for_a_model_that_takes_none(bedrock: BedrockStandIn) -> None:
    """The stand-in can fail: boto3 sending a temperature to the default model gets Bedrock's 400."""
    client = client_for(bedrock)
    with pytest.raises(ClientError) as raised:
        client.converse_stream(  # type: ignore[attr-defined]
            modelId=DEFAULT_MODEL_ID,
            messages=[{"role": "user", "content": [{"text": "hi"}]}],
            inferenceConfig={"maxTokens": 10, "temperature": 0.3},
        )
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_a_model_that_refuses_temperature_is_never_sent_one(bedrock: BedrockStandIn) -> None:
    events = list(model(bedrock, DEFAULT_MODEL_ID).stream_reply(PROMPT))
    assert "".join(e.text for e in events if isinstance(e, Delta)) == "Hello from the stand-in."
    summary, _ = model(bedrock, DEFAULT_MODEL_ID).complete(PROMPT)
    assert summary == "A whole reply."
    assert [r.body["inferenceConfig"] for r in bedrock.received] == [{"maxTokens": 1024}] * 2


def test_a_model_that_takes_a_temperature_gets_it_and_max_tokens_stay_under_its_limit(
    bedrock: BedrockStandIn,
) -> None:
    list(model(bedrock, HAIKU_45, max_tokens=100_000).stream_reply(PROMPT))
    [request] = bedrock.received
    assert request.body["inferenceConfig"] == {"maxTokens": 64_000, "temperature": 0.3}


def test_an_unknown_model_gets_nothing_optional_and_says_so(
    bedrock: BedrockStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    list(model(bedrock, "acme.some-model-v9", max_tokens=100_000).stream_reply(PROMPT))
    assert bedrock.received[0].body["inferenceConfig"] == {"maxTokens": UNKNOWN.max_output_tokens}
    assert any("acme.some-model-v9 is not in adapters/bedrock_models.py" in r.message for r in caplog.records)


def test_a_refused_temperature_is_a_model_failure_not_a_retry(bedrock: BedrockStandIn) -> None:
    """Were the table wrong, the 400 is our bug: ModelFailed at once, no second call."""
    wrong = model(bedrock, DEFAULT_MODEL_ID)
    wrong.traits = traits_of(HAIKU_45)
    with pytest.raises(ModelFailed):
        list(wrong.stream_reply(PROMPT))
    assert len(bedrock.received) == 1


def test_reasoning_deltas_are_never_yielded_and_their_tokens_are_in_the_usage(
    bedrock: BedrockStandIn,
) -> None:
    bedrock.script(
        Stream(
            reasoning=("The customer asks about", " Frieren; volume 14 is next."),
            deltas=("Volume 14", " comes out in May."),
            output_tokens=57,  # thinking and text together, as Bedrock counts them
        )
    )
    events = list(model(bedrock, DEFAULT_MODEL_ID).stream_reply(PROMPT))
    assert [e.text for e in events if isinstance(e, Delta)] == ["Volume 14", " comes out in May."]
    assert events[-1] == Usage(input_tokens=42, output_tokens=57)


def test_a_stream_of_reasoning_only_is_retried_as_nothing_reached_the_caller(
    bedrock: BedrockStandIn,
) -> None:
    bedrock.script(Stream(reasoning=("Thinking...",), deltas=(), drop_after=0), Stream())
    events = list(model(bedrock, DEFAULT_MODEL_ID).stream_reply(PROMPT))
    assert "".join(e.text for e in events if isinstance(e, Delta)) == "Hello from the stand-in."
    assert len(bedrock.received) == 2


def test_a_whole_answer_leaves_its_reasoning_block_out(bedrock: BedrockStandIn) -> None:
    bedrock.script(Completion(text="Summary: asks about Frieren.", reasoning="Hmm.", output_tokens=20))
    text, usage = model(bedrock, DEFAULT_MODEL_ID).complete(PROMPT)
    assert text == "Summary: asks about Frieren." and usage.output_tokens == 20


def test_the_stand_in_thinks_away_a_small_budget_unless_told_not_to(bedrock: BedrockStandIn) -> None:
    """The stand-in can fail: asked as before, the default model spends LLM_MAX_TOKENS' 1,024 tokens
    thinking and answers no text at all."""
    answer = client_for(bedrock).converse(  # type: ignore[attr-defined]
        modelId=DEFAULT_MODEL_ID,
        messages=[{"role": "user", "content": [{"text": "hi"}]}],
        inferenceConfig={"maxTokens": 1024},
    )
    assert answer["stopReason"] == "max_tokens"
    assert "".join(block.get("text", "") for block in answer["output"]["message"]["content"]) == ""


def test_the_default_model_is_told_not_to_think_and_answers_within_its_budget(
    bedrock: BedrockStandIn,
) -> None:
    assert traits_of(DEFAULT_MODEL_ID).disable_thinking
    events = list(model(bedrock, DEFAULT_MODEL_ID, max_tokens=1024).stream_reply(PROMPT))
    assert "".join(e.text for e in events if isinstance(e, Delta)) == "Hello from the stand-in."
    assert events[-1] == Usage(input_tokens=42, output_tokens=4)  # no thinking tokens spent
    summary, _ = model(bedrock, DEFAULT_MODEL_ID, max_tokens=1024).complete(PROMPT)
    assert summary == "A whole reply."
    assert [r.body.get("additionalModelRequestFields") for r in bedrock.received] == [
        {"thinking": {"type": "disabled"}}
    ] * 2


@pytest.mark.parametrize("model_id", [HAIKU_45, UNKNOWN_THINKER])
def test_no_thinking_field_for_a_model_that_does_not_think_or_may_not_be_told(
    bedrock: BedrockStandIn, model_id: str
) -> None:
    """Haiku 4.5 thinks only when asked; a model the table does not know could be an always-thinking
    one, which answers 400 to ``disabled``: nothing optional is sent to it (its reply may be thinner)."""
    list(model(bedrock, model_id).stream_reply(PROMPT))
    assert "additionalModelRequestFields" not in bedrock.received[0].body
