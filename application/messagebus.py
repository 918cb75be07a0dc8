"""Who handles what: the one table from event to use case, and the bus that follows it.

Every transport hands its events here: the Lambda handlers (Streams records, SQS messages, a use
case's own events during a request), the in-process workers of memory mode, and ``redrive``. To
react to something new, name the event in ``application.events``, write its use case (ports in
``__init__``, ``__call__(event)``), add one line below and one provider in the container."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from application.events import (
    ClientGone,
    Event,
    MessageForwarded,
    PendingWrite,
    SessionExpired,
    TurnsCounted,
)
from application.expiry import ExpireSession
from application.handoff import ForwardToAgent
from application.replay import ReplayWrite
from application.sessions import DetachClient
from application.summaries import SummarizeWhenDue

EventHandler = Callable[[Any], object]
H = TypeVar("H", bound=EventHandler)

HANDLERS: Mapping[type[Event], Sequence[type[EventHandler]]] = {
    MessageForwarded: (ForwardToAgent,),
    ClientGone: (DetachClient,),
    TurnsCounted: (SummarizeWhenDue,),
    SessionExpired: (ExpireSession,),
    PendingWrite: (ReplayWrite,),
}


class HandlerFactory(Protocol):
    """Builds a handler with its dependencies (the container does, per invocation)."""

    def __call__(self, handler: type[H]) -> H: ...


class MessageBus:
    """Runs an event's handlers in turn, synchronously; a handler's error reaches the caller, whose
    transport decides what a failure means (a retried stream record, an SQS redelivery...)."""

    def __init__(
        self, build: HandlerFactory, handlers: Mapping[type[Event], Sequence[type[EventHandler]]] = HANDLERS
    ) -> None:
        self._build = build
        self._handlers = handlers

    def handle(self, event: Event) -> list[object]:
        """What each handler returned, in the table's order."""
        return [self._build(handler)(event) for handler in self._handlers[type(event)]]

    def publish(self, event: Event) -> None:
        self.handle(event)
