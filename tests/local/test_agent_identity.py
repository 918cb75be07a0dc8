"""Who is an agent on a local server: only where authentication is off, only from this machine, and
only in the authorizer's words; everywhere else a credential decides."""

from __future__ import annotations

import pytest

from entrypoints.events import WebSocketRequest
from entrypoints.local.apigw_events import ConnectionFacts, message_event
from entrypoints.local.websocket_route import local_agent


def test_with_auth_off_a_console_on_this_machine_is_an_agent_in_the_authorizers_words() -> None:
    said = local_agent("mika", "127.0.0.1", "none")
    facts = ConnectionFacts("c-1", 0, "localhost:8080", "127.0.0.1", "", (), (), said)
    request = WebSocketRequest.from_event(message_event(facts, "{}"))
    assert request.agent_id() == "mika"
    assert local_agent("mika", "::1", "none") == said


@pytest.mark.parametrize(
    ("agent_id", "peer", "mode"),
    [
        ("mika", "192.168.1.20", "none"),  # another machine
        ("mika", "127.0.0.1", "guest"),  # a credential decides
        ("mika", "127.0.0.1", "jwt"),
        ("mika\nrole", "127.0.0.1", "none"),  # no id a store could not hold
        ("", "127.0.0.1", "none"),
        (None, "127.0.0.1", "none"),
    ],
)
def test_nobody_else_becomes_an_agent_by_asking(agent_id: str | None, peer: str, mode: str) -> None:
    said = local_agent(agent_id, peer, mode)
    assert said is None
    facts = ConnectionFacts("c-1", 0, "localhost:8080", peer, "", (), (), said)
    assert WebSocketRequest.from_event(message_event(facts, "{}")).agent_id() is None


def test_a_customer_is_never_an_agent_whatever_the_authorizer_names() -> None:
    facts = ConnectionFacts(
        "c-1", 0, "h", "127.0.0.1", "", (), (), {"customer_id": "mika", "role": "customer"}
    )
    assert WebSocketRequest.from_event(message_event(facts, "{}")).agent_id() is None
