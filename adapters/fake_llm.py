"""A deterministic stand-in for the model: replies in MangaAssist's voice, streamed word by word,
optionally paced like a real model, with injectable failures and a record of every prompt."""

from __future__ import annotations

import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence

from attrs import frozen

from application.errors import ModelUnavailable
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


@frozen
class InjectedFailure:
    error: Exception
    after_deltas: int = 0  # 0: fail before the first delta


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
        self._lock = threading.Lock()
        self._failures: deque[InjectedFailure] = deque()
        self.prompts: list[Prompt] = []  # what stream_reply was asked: the replies
        self.completions: list[Prompt] = []  # what complete was asked: the summaries

    @property
    def calls(self) -> int:
        """Replies the model was asked for (summaries are counted in ``completions``)."""
        return len(self.prompts)

    def fail_next(self, error: Exception | None = None, after_deltas: int = 0) -> None:
        self._failures.append(InjectedFailure(error or ModelUnavailable("injected"), after_deltas))

    def stream_reply(self, prompt: Prompt) -> Iterator[ReplyEvent]:
        with self._lock:
            self.prompts.append(prompt)
            failure = self._failures.popleft() if self._failures else None
        return self._stream(prompt, failure)

    def _stream(self, prompt: Prompt, failure: InjectedFailure | None) -> Iterator[ReplyEvent]:
        words = self.reply_for(prompt).split(" ")
        if self._first_token:
            self._sleep(self._first_token)
        for index, word in enumerate(words):
            if failure is not None and index == failure.after_deltas:
                raise failure.error
            if index and self._per_token:
                self._sleep(self._per_token)
            yield Delta(word if index == 0 else " " + word)
        if failure is not None:
            raise failure.error
        yield Usage(input_tokens=self.input_tokens(prompt), output_tokens=len(words))

    def complete(self, prompt: Prompt) -> tuple[str, Usage]:
        with self._lock:
            self.completions.append(prompt)
            failure = self._failures.popleft() if self._failures else None
        if failure is not None:
            raise failure.error
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
