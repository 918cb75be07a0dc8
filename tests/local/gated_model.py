"""The fake model, but a prompt mentioning "slow" waits for its first token until the test releases
it: tests then check what happens meanwhile by order of events, never by timings."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from application.ports import Prompt, ReplyEvent
from testing.model import RecordingModel


class GatedModel:
    def __init__(self) -> None:
        self.released = threading.Event()
        self.slow_started = threading.Event()
        self.fast = RecordingModel()
        self.slow = RecordingModel(first_token_ms=60_000, sleep=self._hold)

    def _hold(self, _seconds: float) -> None:
        self.slow_started.set()
        assert self.released.wait(timeout=30), "the slow reply was never released"

    def stream_reply(self, prompt: Prompt) -> Iterator[ReplyEvent]:
        slow = "slow" in prompt.messages[-1].text.lower()
        return (self.slow if slow else self.fast).stream_reply(prompt)
