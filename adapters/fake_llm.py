"""A deterministic stand-in for the model (``LLM_PROVIDER=fake``): replies in MangaAssist's voice,
streamed word by word, optionally paced like a real model. Tests that need to see the prompts or to
make it fail use ``testing.model.RecordingModel``, built on this one."""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterator, Sequence

from application.ports import Delta, Prompt, PromptMessage, ReplyEvent, Usage
from domain.model import Role

OPENINGS = (
    "Great question!",
    "Happy to help!",
    "Thanks for reaching out to MangaAssist!",
    "Let me look into that for you.",
)
TOPICS = (
    (
        ("stock", "available", "volume", "vol"),
        "I checked our shelves: that volume is in stock and ships within two business days.",
    ),
    (
        ("order", "shipping", "ship", "deliver", "track"),
        "Your order is being packed with care; you will get a tracking number by e-mail as soon as it ships.",
    ),
    (
        ("return", "refund", "damaged"),
        "Sorry to hear that! Returns are free within 30 days, and damaged copies are replaced at no cost.",
    ),
    (
        ("recommend", "suggest", "like", "similar"),
        "If you enjoyed that, you might love Frieren, Dungeon Meshi or Blue Period: all three are loved.",
    ),
    (
        ("price", "cost", "discount", "sale"),
        "Our current sale takes 20% off every box set, and members get free shipping on orders over $35.",
    ),
)
FALLBACK = "I can help with finding series, checking stock, orders, shipping and returns, or recommendations."
CLOSING = "Is there anything else I can do for you today?"


class FakeLanguageModel:
    def __init__(
        self,
        first_token_ms: float = 0,
        tokens_per_second: float = 0,
        reply_words: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._first_token = first_token_ms / 1000
        self._per_token = 1 / tokens_per_second if tokens_per_second > 0 else 0.0
        self._reply_words = reply_words
        self._sleep = sleep

    def stream_reply(self, prompt: Prompt) -> Iterator[ReplyEvent]:
        words = self.reply_for(prompt).split(" ")
        if self._first_token:
            self._sleep(self._first_token)
        for index, word in enumerate(words):
            if index and self._per_token:
                self._sleep(self._per_token)
            yield Delta(word if index == 0 else " " + word)
        yield Usage(input_tokens=self.input_tokens(prompt), output_tokens=len(words))

    def complete(self, prompt: Prompt) -> tuple[str, Usage]:
        text = _summarize(prompt.messages)
        return text, Usage(self.input_tokens(prompt), len(text.split()))

    @staticmethod
    def input_tokens(prompt: Prompt) -> int:
        """The fake's own tokenizer: about four characters a token, as Claude's is for English."""
        texts = [*prompt.system, *(m.text for m in prompt.messages)]
        return sum(len(text) // 4 + 4 for text in texts)

    def reply_for(self, prompt: Prompt) -> str:
        question = prompt.messages[-1].text if prompt.messages else ""
        lowered = question.lower()
        opening = OPENINGS[zlib.crc32(question.encode()) % len(OPENINGS)]
        answers = [text for keys, text in TOPICS if any(key in lowered for key in keys)] or [FALLBACK]
        reply = " ".join([opening, *answers[:2], CLOSING])
        if self._reply_words:
            words = reply.split(" ")
            while len(words) < self._reply_words:
                words.extend(words[: self._reply_words - len(words)])
            reply = " ".join(words[: self._reply_words])
        return reply


def _summarize(messages: Sequence[PromptMessage]) -> str:
    """A deterministic summary: the earlier summary's gist and the customer's questions, shortened."""
    text = "\n".join(m.text for m in messages if m.role is Role.USER)
    earlier = [line for line in text.splitlines() if line.startswith("Previous summary:")]
    asked = [
        line[len("Customer: ") :][:60].strip() for line in text.splitlines() if line.startswith("Customer: ")
    ]
    parts = ["Earlier: see previous summary."] if earlier else []
    parts.append(
        "The customer asked about: " + "; ".join(asked[-10:]) + "." if asked else "No questions yet."
    )
    return " ".join(parts)
