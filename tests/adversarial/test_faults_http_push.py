"""The push failing for real: the container's ``ApiGatewayNotifier`` and boto3 client posting to the
Management API stand-in, which answers 410 ``GoneException`` from some post on, or errors that
outlast botocore's retries. The client that saw no whole reply asks again (from a new connection if
its socket is gone); the reply is stored once and the model asked once unless an attempt failed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.retries.standard import ExponentialBackoff

from testing.fakes import ManualClock
from testing.management_api_standin import ManagementApiStandIn
from tests.adversarial.customer import Customer, audit
from tests.adversarial.systems import memory_chat

SCENARIOS: dict[str, tuple[int | None, list[tuple[int, str]], int]] = {
    # name: (accepted posts before 410 from then on, errors answered first, model calls expected)
    "GoneException at the first chunk": (0, [], 1),
    "GoneException at the second chunk": (1, [], 1),
    "GoneException at the reply frame": (2, [], 1),  # a reply of the fake: two chunks, then the frame
    "throttled past botocore's retries": (None, [(429, "LimitExceededException")] * 3, 1),
    "5xx past botocore's retries": (None, [(500, "InternalServerError")] * 3, 1),
    "403: our endpoint or permission is wrong": (None, [(403, "ForbiddenException")], 2),
}


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[ManagementApiStandIn]:
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda _self, _context: 0)
    with ManagementApiStandIn() as standin:
        yield standin


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_management_api_failing(api: ManagementApiStandIn, name: str) -> None:
    gone_after, errors, model_calls = SCENARIOS[name]
    clock = ManualClock()
    with memory_chat(clock=clock, env={"WEBSOCKET_CALLBACK_URL": api.url}) as chat:
        chat.container.adapters.notifier.reset_override()  # the real notifier, over HTTP
        customer = Customer(chat, clock).connect()
        customer.ask("warm-up")
        if gone_after is not None:
            api.gone_after = len(api.frames()) + gone_after
        api.errors.extend(errors)

        customer.ask("m-1")
        api.gone_after = None
        if not [f for f in api.frames("message") if f.get("reply_to") == "m-1"]:
            if chat.repository.get(customer.session_id).connection_id != customer.connection_id:
                customer.reconnect()
            customer.ask("m-1")

        assert [f for f in api.frames("message") if f.get("reply_to") == "m-1"], "the reply never arrived"
        assert not api.errors and (gone_after is None or 410 in [p.status for p in api.posts]), "never failed"
        assert customer.model_calls("m-1") == model_calls
        audit(customer, "push over HTTP", name)
