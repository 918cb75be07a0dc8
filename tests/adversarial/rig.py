"""The message path rigged for faults: the real handlers on the in-memory store, behind a store,
a model and a notifier that fail on cue, and a retry queue the test replays itself."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from attrs import define
from dependency_injector import providers

from testing.fakes import ListRetryQueue, ManualClock
from testing.model import RecordingModel
from tests.adversarial.customer import Customer
from tests.adversarial.faults import AmbiguousRepository, FailingNotifier
from tests.adversarial.systems import StrictChat, memory_chat


@define
class Rig:
    chat: StrictChat
    clock: ManualClock
    repo: AmbiguousRepository
    queue: ListRetryQueue | None
    notifier: FailingNotifier

    @property
    def llm(self) -> RecordingModel:
        return self.chat.llm

    def customer(self) -> Customer:
        customer = Customer(self.chat, self.clock).connect()
        customer.ask("warm-up")  # a conversation under way: context, summaries, a known session
        return customer


@contextmanager
def rigged(with_queue: bool = True, reply_words: int | None = None) -> Iterator[Rig]:
    clock = ManualClock()
    with memory_chat(clock=clock) as chat:
        adapters = chat.container.adapters
        repo = AmbiguousRepository(chat.repository)
        adapters.repository.override(providers.Object(repo))
        # As SQS would: the test replays it through the turn writer (memory mode's own queue would be
        # replayed by the in-process workers before the test could look at it).
        queue = ListRetryQueue() if with_queue else None
        adapters.retry_queue.override(providers.Object(queue))
        notifier = FailingNotifier()
        chat.notifier = notifier
        adapters.notifier.override(providers.Object(notifier))
        if reply_words:
            chat.llm = RecordingModel(reply_words=reply_words)
            adapters.llm.override(providers.Object(chat.llm))
        try:
            yield Rig(chat, clock, repo, queue, notifier)
        finally:
            adapters.repository.reset_override()
            adapters.retry_queue.reset_override()
