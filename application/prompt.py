"""Builds the model's prompt: the system text, the latest summary and the most recent turns that fit
the token budget, shaped as the Converse API accepts it (user first, roles alternating)."""

from __future__ import annotations

from collections.abc import Iterable

from application.ports import ConversationContext, Prompt, PromptMessage, TokenCounter
from domain.model import Role, Turn

# Converse wraps each message in a role and content block; count a few tokens for that framing.
MESSAGE_OVERHEAD_TOKENS = 4
ELISION = "\n[…]\n"


class PromptBuilder:
    def __init__(
        self, counter: TokenCounter, system_prompt: str, max_context_tokens: int, max_context_turns: int
    ) -> None:
        self._counter = counter
        self._system_prompt = system_prompt
        self._max_tokens = max_context_tokens
        self._max_turns = max(1, max_context_turns)
        self._system_cost = counter.count(system_prompt) + MESSAGE_OVERHEAD_TOKENS
        if self._system_cost + 2 * MESSAGE_OVERHEAD_TOKENS + 16 > max_context_tokens:
            raise ValueError("MAX_CONTEXT_TOKENS leaves no room beside the system prompt")

    def build(self, context: ConversationContext, current: Turn) -> Prompt:
        budget = self._max_tokens - self._system_cost
        # The customer's own message always goes in, cut in the middle if it alone overflows.
        question = self._fit(current.content, budget - MESSAGE_OVERHEAD_TOKENS)
        budget -= self._counter.count(question) + MESSAGE_OVERHEAD_TOKENS

        system = [self._system_prompt]
        if context.summary is not None and budget > MESSAGE_OVERHEAD_TOKENS + 16:
            summary = self._fit(
                "Summary of the conversation so far:\n" + context.summary.text,
                min(budget // 2, budget - MESSAGE_OVERHEAD_TOKENS),
            )
            budget -= self._counter.count(summary) + MESSAGE_OVERHEAD_TOKENS
            system.append(summary)

        window: list[Turn] = []
        notes: list[str] = []
        for turn in self._newest_first(context.turns, current):
            if len(window) >= self._max_turns - 1:
                break
            text = spoken(turn)
            cost = self._counter.count(text) + MESSAGE_OVERHEAD_TOKENS
            if cost > budget:
                break
            budget -= cost
            if turn.role is Role.SYSTEM:
                notes.append(text)
            else:
                window.append(turn)
        # Converse starts with the customer. What a human agent said before the window's first
        # customer message is still the conversation: it goes to the system text, not away.
        while window and window[-1].role is not Role.USER:
            oldest = window.pop()
            if oldest.agent_id:
                notes.append(spoken(oldest))
        system.extend(reversed(notes))

        messages = _alternate([*reversed(window), current], question)
        used = self._max_tokens - budget
        return Prompt(system=system, messages=messages, estimated_tokens=used)

    @staticmethod
    def _newest_first(turns: Iterable[Turn], current: Turn) -> list[Turn]:
        return sorted(
            (t for t in turns if t.turn_id != current.turn_id and t.turn_id < current.turn_id),
            key=lambda t: t.turn_id,
            reverse=True,
        )

    def _fit(self, text: str, budget: int) -> str:
        """``text`` itself if it fits ``budget`` tokens, else its head and tail around an elision mark."""
        if self._counter.count(text) <= budget:
            return text
        low, high = 0, len(text)
        while low < high:  # the longest keep that fits
            keep = (low + high + 1) // 2
            if self._counter.count(_elide(text, keep)) <= budget:
                low = keep
            else:
                high = keep - 1
        return _elide(text, low)


def _elide(text: str, keep: int) -> str:
    head = keep - keep // 3
    return text[:head] + ELISION + text[len(text) - (keep - head) :] if keep < len(text) else text


def spoken(turn: Turn) -> str:
    """A turn as the model reads it: a human agent's words say whose they are, so the model neither
    takes them for its own nor contradicts them unknowingly."""
    if turn.agent_id:
        return f"[Human support agent {turn.agent_id} wrote to the customer:] {turn.content}"
    return turn.content


def _alternate(turns: list[Turn], question: str) -> list[PromptMessage]:
    """Converse wants the first message from the user and roles alternating: merge neighbours of
    one role (two questions sent before the first was answered) and drop leading replies."""
    messages: list[PromptMessage] = []
    for index, turn in enumerate(turns):
        text = question if index == len(turns) - 1 else spoken(turn)
        if not messages and turn.role is not Role.USER:
            continue
        if messages and messages[-1].role is turn.role:
            messages[-1] = PromptMessage(turn.role, messages[-1].text + "\n\n" + text)
        else:
            messages.append(PromptMessage(turn.role, text))
    return messages
