"""The one event table: every event has a handler, the container can make every handler, and the bus
hands an event to exactly the handlers the table names, with the invocation's notifier."""

from __future__ import annotations

import typing
from datetime import timedelta
from typing import Any

import pytest
from dependency_injector import providers

from application.events import ClientGone, Event, MessageForwarded, PendingWrite, SessionExpired, TurnsCounted
from application.messagebus import HANDLERS, MessageBus
from application.ports import NewMessage
from application.replay import Replayed
from domain.model import Role, Session, SessionStatus, Turn
from entrypoints.container import build_container, message_bus
from testing.fakes import START, ManualClock
from testing.notifier import RecordingNotifier

EVENTS = typing.get_args(Event)


def test_every_event_has_a_handler_and_the_table_names_no_other() -> None:
    assert set(HANDLERS) == set(EVENTS)
    assert all(HANDLERS[event] for event in EVENTS)


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.__name__)
def test_the_container_makes_every_handler_of_the_table(event: type) -> None:
    made: list[Any] = []
    bus = message_bus(build_container({}), RecordingNotifier())
    for handler in HANDLERS[event]:
        made.append(bus._build(handler))
    assert [type(m) for m in made] == list(HANDLERS[event])


def test_the_bus_runs_the_handlers_the_table_names_in_order_and_returns_what_they_return() -> None:
    calls: list[tuple[str, object]] = []

    class First:
        def __call__(self, event: object) -> str:
            calls.append(("first", event))
            return "one"

    class Second:
        def __call__(self, event: object) -> str:
            calls.append(("second", event))
            return "two"

    event = ClientGone("s-1", "c-1")
    bus = MessageBus(lambda handler: handler(), {ClientGone: (First, Second)})
    assert bus.handle(event) == ["one", "two"]
    assert calls == [("first", event), ("second", event)]


def test_a_handler_failing_reaches_the_transport() -> None:
    class Broken:
        def __call__(self, _event: object) -> None:
            raise RuntimeError("broken")

    bus = MessageBus(lambda handler: handler(), {ClientGone: (Broken,)})
    with pytest.raises(RuntimeError):
        bus.publish(ClientGone("s-1", "c-1"))


def _container_with_session(agent_connection_id: str | None = None) -> tuple[Any, Session]:
    container = build_container({})
    container.adapters.clock.override(providers.Object(ManualClock()))
    session = Session.open("s-1", "cust-1", "c-1", START, timedelta(days=1))
    repo = container.adapters.repository()
    repo.add(session)
    if agent_connection_id is not None:
        handed = session.hand_off(START, timedelta(days=1), "agent-1", agent_connection_id)
        repo.replace(session, handed)
        session = handed
    return container, session


def test_a_client_gone_detaches_the_session_from_that_connection() -> None:
    container, session = _container_with_session()
    message_bus(container, RecordingNotifier()).publish(ClientGone(session.session_id, "c-1"))
    stored = container.adapters.repository().get(session.session_id)
    assert stored.status is SessionStatus.DISCONNECTED and stored.connection_id is None


def test_a_forwarded_message_reaches_the_agent_console_through_the_invocations_notifier() -> None:
    container, session = _container_with_session(agent_connection_id="agent-conn")
    notifier = RecordingNotifier()
    turn = Turn("0001-a", Role.USER, "where is my order?", 5, START, message_id="m-1")
    message_bus(container, notifier).publish(MessageForwarded(session.session_id, turn))
    [frame] = notifier.of("agent-conn")
    assert frame["type"] == "customer_message" and frame["content"] == "where is my order?"


def test_a_count_short_of_a_summary_mark_makes_no_summary() -> None:
    container, session = _container_with_session()
    assert message_bus(container).handle(TurnsCounted(session.session_id, 1, 2)) == [None]


def test_a_pending_write_for_a_session_gone_is_let_go() -> None:
    container, _ = _container_with_session()
    reply = Turn("0001-q~a", Role.ASSISTANT, "late", 1, START, "m-1", "r-1")
    write = PendingWrite("complete_exchange", "no-such-session", "m-1", reply, START + timedelta(days=1))
    assert message_bus(container).handle(write) == [Replayed.SESSION_GONE]


def test_an_expired_session_is_deleted_and_its_connection_closed() -> None:
    container, session = _container_with_session()
    notifier = RecordingNotifier()
    assert message_bus(container, notifier).handle(SessionExpired(session.session_id, "c-1")) == [1]
    assert container.adapters.repository().get(session.session_id) is None
    assert notifier.closed == {"c-1"}


def test_a_pending_write_is_stored_once() -> None:
    container, session = _container_with_session()
    question = Turn("0001-q", Role.USER, "hello?", 2, START, message_id="m-1")
    later = START + timedelta(days=1)
    container.adapters.repository().record_message(
        NewMessage(session.session_id, "c-1", question, SessionStatus.ACTIVE, START, START, later), 5
    )
    reply = Turn(question.reply_id(), Role.ASSISTANT, "hi!", 1, START, "m-1", "r-1")
    write = PendingWrite("complete_exchange", session.session_id, "m-1", reply, later)
    bus = message_bus(container)
    assert bus.handle(write) == [Replayed.STORED]
    assert bus.handle(write) == [Replayed.ALREADY_STORED]  # SQS delivers at least once
    assert [t.content for t in container.adapters.repository().history(session.session_id, 10)] == [
        "hello?",
        "hi!",
    ]
