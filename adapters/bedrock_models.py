"""The Bedrock models we support, and what each one accepts: the one place that knows that a model
refuses ``temperature``, caches prompts, thinks by default or stops at some number of output tokens.

A request is built from ``traits_of(model_id)``, so we never send a parameter the model refuses. Ids
are matched on the base model, whatever reaches it: a model id (``anthropic.claude-haiku-5-5``), a
cross-region inference profile (``global.`` / ``us.`` / ``eu.`` / ``jp.`` / ``apac.`` ...) or either
one's ARN. An id this table does not know gets ``UNKNOWN``: nothing optional is sent (no temperature,
no cache point), which every Converse model accepts; ``manga-assist preflight`` says so.

Sources, read 2026-12-01: Bedrock's model cards (lifecycle, max output, prompt caching with its
minimum tokens per cache checkpoint), Anthropic's migration guides (the 4.7-and-later and 5.x models
answer 400 to a non-default ``temperature``; Haiku 5.5 and the 5.x models think adaptively unless told
otherwise), Anthropic's model overview (Haiku 5.5 and Sonnet 5.5: thinking "adaptive", which may be
turned off; Opus 5.5 and Fable 5.1: "adaptive (always on)") and Bedrock's *Adaptive thinking* page (the
always-adaptive models answer 400 to ``thinking.type: "disabled"``). Lifecycle is not kept here: it
changes under us, so preflight asks Bedrock (``GetFoundationModel``) instead.
"""

from __future__ import annotations

import re

from attrs import frozen

# The default: Active on Bedrock (launched 2026-10-07, end of life no sooner than 2027-10-07), reached
# through the global cross-region inference profile, which every commercial source region offers.
DEFAULT_MODEL_ID = "global.anthropic.claude-haiku-5-5"

THINKING_OFF = "off"  # thinks only when asked to
THINKING_ADAPTIVE = "adaptive"  # thinks when it judges a request needs it, unless told not to

# What we ask of a model that would think by default (Converse ``additionalModelRequestFields``, passed
# through to Anthropic's Messages API): no thinking. Its tokens would count against ``maxTokens``
# (``LLM_MAX_TOKENS``, 1,024 by default) and a long think could leave a reply or a summary empty, cost
# latency inside the reply's deadline, and is never shown to anyone. Only where ``thinking_can_be_disabled``:
# the models that always think (Opus 5.5, Fable 5.x and other "adaptive, always on" ones) answer 400 to it.
THINKING_DISABLED = {"thinking": {"type": "disabled"}}


@frozen
class ModelTraits:
    name: str
    temperature_allowed: bool  # False: a temperature in the request is refused with a 400
    supports_prompt_cache: bool  # Converse ``cachePoint`` blocks in system / messages
    min_cache_tokens: int  # the least a prompt prefix must cost before a cache point is accepted
    thinking_default: str  # THINKING_OFF or THINKING_ADAPTIVE: ``reasoningContent`` may stream
    max_output_tokens: int  # maxTokens above this is refused
    # THINKING_DISABLED is accepted (sent to an adaptive model, it stops it thinking); False: never sent
    thinking_can_be_disabled: bool = False

    @property
    def disable_thinking(self) -> bool:
        """Whether requests carry THINKING_DISABLED: a model that would think, and may be told not to."""
        return self.thinking_default == THINKING_ADAPTIVE and self.thinking_can_be_disabled


# Matched in order against the base model id (geography and ARN stripped); first match wins.
SUPPORTED: tuple[tuple[re.Pattern[str], ModelTraits], ...] = tuple(
    (re.compile(pattern), traits)
    for pattern, traits in (
        (
            r"^anthropic\.claude-haiku-5-5",
            ModelTraits("Claude Haiku 5.5", False, True, 512, THINKING_ADAPTIVE, 128_000, True),
        ),
        (
            r"^anthropic\.claude-haiku-4-5-20251001",
            ModelTraits("Claude Haiku 4.5", True, True, 4_096, THINKING_OFF, 64_000),
        ),
        (
            r"^anthropic\.claude-sonnet-4-5-20250929",
            ModelTraits("Claude Sonnet 4.5", True, True, 1_024, THINKING_OFF, 64_000),
        ),
        (
            r"^anthropic\.claude-sonnet-4-6",
            ModelTraits("Claude Sonnet 4.6", True, True, 1_024, THINKING_OFF, 64_000),
        ),
    )
)

# An id we know nothing of: send nothing optional, never more output than the smallest model here.
UNKNOWN = ModelTraits("unknown model", False, False, 0, THINKING_ADAPTIVE, 8_192)

_ARN = re.compile(r"^arn:[^:]+:bedrock:[^:]*:[^:]*:(?:foundation-model|inference-profile)/(?P<id>.+)$")
_GEOGRAPHY = re.compile(r"^(?:global|us|us-gov|eu|apac|jp|au|ca)\.")


def base_model_id(model_id: str) -> str:
    """``anthropic.claude-x`` from ``eu.anthropic.claude-x``, from its ARN, or from itself."""
    match = _ARN.match(model_id.strip())
    bare = match.group("id") if match else model_id.strip()
    return _GEOGRAPHY.sub("", bare, count=1)


def is_inference_profile(model_id: str) -> bool:
    """A cross-region inference profile (by id or ARN), not a model invoked in its own region."""
    match = _ARN.match(model_id.strip())
    if match:
        return ":inference-profile/" in model_id
    return bool(_GEOGRAPHY.match(model_id.strip()))


def traits_of(model_id: str) -> ModelTraits:
    base = base_model_id(model_id)
    for pattern, traits in SUPPORTED:
        if pattern.match(base):
            return traits
    return UNKNOWN


def is_supported(model_id: str) -> bool:
    return traits_of(model_id) is not UNKNOWN
