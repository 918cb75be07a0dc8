"""Rolling summaries: each time a session passes a multiple of N turns, the turns since the previous
summary (and that summary) are summarized, so prompts stay short however long the conversation."""

from __future__ import annotations

import logging

from attrs import frozen

from application.events import TurnsCounted
from application.ports import Clock, LanguageModel, Prompt, PromptMessage, SummaryStore, TokenCounter
from domain.model import Role, Summary, Turn

log = logging.getLogger(__name__)

SUMMARY_INSTRUCTIONS = (
    "You summarize customer-support conversations of MangaAssist, an online manga store. Write a short "
    "factual summary (at most 120 words) of what the customer wants, what they were told, and anything "
    "still open (orders, titles, volumes). No greetings, no advice."
)


# The transcript's header and the message framing, in tokens.
PROMPT_FRAMING_TOKENS = 64
MIN_TOKENS_PER_PART = 32
BACKLOG_FACTOR = 4  # how far behind, in rounds of summaries, one prompt may catch up


def summary_due(before: int, after: int, every_turns: int) -> bool:
    """Did the turn count pass a multiple of ``every_turns``?"""
    return after // every_turns > before // every_turns


@frozen
class RollSummaryCommand:
    session_id: str
    turn_count: int


def _speaker(turn: Turn) -> str:
    if turn.role is Role.USER:
        return "Customer"
    if turn.role is Role.SYSTEM:
        return "Note"
    return f"Human agent {turn.agent_id}" if turn.agent_id else "MangaAssist"


class RollSummary:
    def __init__(
        self,
        repo: SummaryStore,
        llm: LanguageModel,
        counter: TokenCounter,
        clock: Clock,
        every_turns: int,
        max_prompt_tokens: int,
    ) -> None:
        self._repo = repo
        self._llm = llm
        self._counter = counter
        self._clock = clock
        self._every = every_turns
        self._budget = max_prompt_tokens

    def __call__(self, command: RollSummaryCommand) -> Summary | None:
        """The summary stored, or ``None`` when there is nothing (new) to summarize. Safe to repeat and
        to receive out of order: a target already covered, or passed, is skipped."""
        target = command.turn_count // self._every * self._every
        latest = self._repo.latest_summary(command.session_id)
        covered = latest.turns_covered if latest else 0
        if target <= covered:
            return None
        turns = list(
            self._repo.turns_after(
                command.session_id, latest.last_turn_id if latest else None, target - covered
            )
        )
        if not turns:
            return None
        text, _ = self._llm.complete(self._prompt(latest, turns[-self._max_turns() :]))
        summary = Summary(
            session_id=command.session_id,
            text=text.strip(),
            last_turn_id=turns[-1].turn_id,
            turns_covered=covered + len(turns),
            created_at=self._clock.now(),
        )
        if not self._repo.add_summary(summary):
            log.info("summary already stored", extra={"session_id": command.session_id})
            return None
        return summary

    def _room(self) -> int:
        """Tokens left for the transcript beside the instructions and the framing."""
        return self._budget - self._counter.count(SUMMARY_INSTRUCTIONS) - PROMPT_FRAMING_TOKENS

    def _max_turns(self) -> int:
        """At most this many turns go into one prompt, each with at least ``MIN_TOKENS_PER_PART``:
        when summaries fell behind (a failed batch, a record past its age), the newest turns up to
        the target are summarized with the previous summary, and the middle is left to the history."""
        return max(1, min(BACKLOG_FACTOR * self._every, self._room() // MIN_TOKENS_PER_PART - 1))

    def _prompt(self, previous: Summary | None, turns: list[Turn]) -> Prompt:
        """One user message holding the previous summary and the transcript, every part cut to a
        share of the budget so that a few huge messages cannot blow it."""
        instructions_cost = self._counter.count(SUMMARY_INSTRUCTIONS)
        parts = ([f"Previous summary:\n{previous.text}"] if previous else []) + [
            f"{_speaker(t)}: {t.content}" for t in turns
        ]
        # Each part is cut to its share; a part costs up to 2 tokens more once joined (a newline, the
        # rounding of a separate count).
        share = self._room() // len(parts) - 2
        fitted = [self._cut(part, share) for part in parts]
        transcript = "Summarize this conversation:\n\n" + "\n".join(fitted)
        estimated = instructions_cost + self._counter.count(transcript) + 8
        if estimated > self._budget:  # the shares above make this impossible; say so if it is not
            raise ValueError(f"summary prompt of {estimated} tokens over the budget of {self._budget}")
        return Prompt([SUMMARY_INSTRUCTIONS], [PromptMessage(Role.USER, transcript)], estimated)

    def _cut(self, text: str, budget: int) -> str:
        if self._counter.count(text) <= budget:
            return text
        keep = len(text) * budget // max(1, self._counter.count(text))
        while keep > 0 and self._counter.count(text[:keep] + " […]") > budget:
            keep = keep * 9 // 10
        return text[:keep] + " […]"


class SummarizeWhenDue:
    """``TurnsCounted``: a summary each time the count passes a multiple of ``every_turns``."""

    def __init__(self, roll: RollSummary, every_turns: int) -> None:
        self._roll = roll
        self._every = every_turns

    def __call__(self, event: TurnsCounted) -> Summary | None:
        if not summary_due(event.before, event.after, self._every):
            return None
        return self._roll(RollSummaryCommand(event.session_id, event.after))
