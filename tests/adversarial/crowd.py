"""Many invocations at once against one session, as API Gateway may run them: each sender a thread
with its own "Lambda process" (container), or all in one; the customer resuming the session from a
second connection midway. Handlers are the real ones; each thread resolves its own container."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from attrs import define, field
from dependency_injector import providers

from entrypoints import connect, disconnect, message
from entrypoints.container import Container
from testing.harness import connect_event, message_event
from testing.model import RecordingModel
from testing.notifier import RecordingNotifier

RETRIES = 400  # a sender retries a refused message this often at most (409: another thread answers it)


@define
class Crowd:
    """Runs handlers in threads, each thread with the container ``container_for(name)`` gives it."""

    container_for: Callable[[str], Container]
    notifier: RecordingNotifier = field(factory=RecordingNotifier)
    llm: RecordingModel = field(factory=RecordingModel)
    _local: threading.local = field(factory=threading.local)

    def install(self, monkeypatch: Any) -> Crowd:
        for module in (connect, disconnect, message):
            monkeypatch.setattr(module, "get_container", self._current)
        return self

    def prepare(self, container: Container) -> Container:
        container.adapters.notifier.override(providers.Object(self.notifier))
        container.adapters.llm.override(providers.Object(self.llm))
        container.adapters.repository()  # clients and pools made before the threads start
        return container

    def _current(self) -> Container:
        return self.container_for(getattr(self._local, "name", "main"))

    def as_(self, name: str) -> Crowd:
        self._local.name = name
        return self

    def connect(self, connection_id: str, customer_id: str, session_id: str | None = None) -> int:
        return int(connect.handler(connect_event(connection_id, customer_id, session_id), None)["statusCode"])

    def send(self, connection_id: str, body: dict[str, Any]) -> int:
        return int(message.handler(message_event(connection_id, body), None)["statusCode"])


@define
class Sender:
    """One thread's share: messages in order, each retried until answered, following the session to
    the customer's new connection when the old one is refused (403)."""

    crowd: Crowd
    name: str
    message_ids: list[str]
    connection_id: str  # the connection this sender's frames arrive on
    moved_to: list[str] = field(factory=list)  # the customer's new connection, once resumed there
    pause_after: int | None = None  # wait here for ``resumed``: the frames after it race the resume
    resumed: threading.Event | None = None
    sent: int = 0
    statuses: dict[str, list[tuple[str, int]]] = field(factory=dict)
    error: BaseException | None = None

    @staticmethod
    def question(message_id: str) -> str:
        return f"Question {message_id}: is this volume in stock?"

    def run(self) -> None:
        self.crowd.as_(self.name)
        try:
            for index, message_id in enumerate(self.message_ids):
                if index == self.pause_after and self.resumed is not None:
                    assert self.resumed.wait(60), "the resume never came"
                self._deliver(message_id)
                self.sent += 1
        except BaseException as error:
            self.error = error

    def _deliver(self, message_id: str) -> None:
        tries = self.statuses.setdefault(message_id, [])
        question = self.question(message_id)
        for _ in range(RETRIES):
            body = {"action": "sendMessage", "message": question, "message_id": message_id}
            status = self.crowd.send(self.connection_id, body)
            tries.append((self.connection_id, status))
            if status == 200:
                return
            if status == 403 and self.resumed is not None:  # the session moved: follow it
                assert self.resumed.wait(60), "refused, and no resume came"
                self.connection_id = self.moved_to[0]
            elif status not in (409, 503):
                raise AssertionError(f"{message_id}: {status} on {self.connection_id}")
            time.sleep(0.001)
        raise AssertionError(f"{message_id} never answered: {tries[-5:]}")


def run_all(senders: list[Sender], while_running: Callable[[], None]) -> None:
    threads = [threading.Thread(target=s.run, name=s.name) for s in senders]
    for thread in threads:
        thread.start()
    try:
        while_running()
    finally:
        for thread in threads:
            thread.join(120)
    for sender in senders:
        if sender.error is not None:
            raise sender.error
