"""The fake model with a test's eyes and hands: it records every prompt it is given and fails on
demand, before its first delta, mid-stream or at its end."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from typing import Any

from attrs import frozen

from adapters.fake_llm import FakeLanguageModel
from application.errors import ModelUnavailable
from application.ports import Delta, Prompt, ReplyEvent, Usage


@frozen
class InjectedFailure:
    error: Exception
    after_deltas: int = 0  # 0: fail before the first delta


class RecordingModel(FakeLanguageModel):
    """``FakeLanguageModel``'s replies; ``prompts`` and ``completions`` keep what it was asked,
    ``fail_next`` makes the next reply or summary raise."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
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
        return self._failing(super().stream_reply(prompt), failure)

    @staticmethod
    def _failing(events: Iterator[ReplyEvent], failure: InjectedFailure | None) -> Iterator[ReplyEvent]:
        deltas = 0
        for event in events:
            if failure is not None and (isinstance(event, Usage) or deltas == failure.after_deltas):
                raise failure.error  # before that delta, or after the last one
            deltas += isinstance(event, Delta)
            yield event

    def complete(self, prompt: Prompt) -> tuple[str, Usage]:
        with self._lock:
            self.completions.append(prompt)
            failure = self._failures.popleft() if self._failures else None
        if failure is not None:
            raise failure.error
        return super().complete(prompt)
