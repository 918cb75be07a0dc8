"""The conversation's tunables, read from the environment by the container."""

from __future__ import annotations

from datetime import timedelta

from attrs import Factory, frozen

from application.frame_size import MAX_MESSAGE_BYTES
from domain.limits import LimitPolicy

DEFAULT_SYSTEM_PROMPT = (
    "You are MangaAssist, the friendly customer-support assistant of an online manga store. "
    "Help customers find series and volumes, check orders, shipping and returns, and recommend manga. "
    "Be concise and warm. If you do not know an order's details, say so and offer a human agent."
)


@frozen
class ConversationSettings:
    max_message_chars: int = 16000
    max_message_bytes: int = MAX_MESSAGE_BYTES  # UTF-8, so that its frame fits API Gateway's 32 KB
    session_ttl: timedelta = timedelta(seconds=86400)
    max_context_turns: int = 20
    max_context_tokens: int = 4000
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    # How long one invocation may answer a message before a retry may take the message over.
    # Longer than the message function's 30 s timeout, so a live answer is never answered twice.
    answer_lease: timedelta = timedelta(seconds=45)
    # A handoff nobody has claimed for this long: the customer is told (once per wait).
    handoff_unclaimed_after: timedelta = timedelta(seconds=120)
    history_default: int = 20
    history_max: int = 100
    limits: LimitPolicy = Factory(LimitPolicy)
