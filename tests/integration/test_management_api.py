"""The API Gateway notifier with the real boto3 ``apigatewaymanagementapi`` client: against moto
server (where every post succeeds) and against a local stand-in that throttles, fails or says the
client left (410 ``GoneException``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from adapters.apigateway import ApiGatewayNotifier, FrameTooLarge, ManagementApiClients
from application.errors import ConnectionGone, Unavailable
from testing.aws import moto_server
from testing.management_api_standin import ManagementApiStandIn, frames_at_moto

CONN = "L0SM9cOFvHcCIhw="


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_server() as url:  # moto's Management API: every post succeeds
        yield url


def notifier_for(url: str) -> ApiGatewayNotifier:
    """As the container makes it: one client per endpoint, the production retry settings."""
    return ManagementApiClients(boto3.session.Session, region="us-east-1").notifier(url)


@pytest.mark.moto_server
def test_frames_reach_moto_byte_for_byte(moto_url: str) -> None:
    notifier = notifier_for(moto_url)
    sent: list[dict[str, Any]] = [
        {"type": "chunk", "response_id": "r-1", "index": 0, "delta": '葬送のフリーレン 🍙 "quoted"\n'},
        {"type": "message", "response_id": "r-1", "reply_to": "m-1", "content": "x" * 32_000},
    ]
    for frame in sent:
        notifier.push("moto+Conn1=", frame)
    assert frames_at_moto("moto+Conn1=") == sent


def test_a_frame_over_32_kb_is_refused_before_any_call() -> None:
    """API Gateway's WebSocket frame is 32 KB: a larger one is our bug (replies are split first)."""
    with ManagementApiStandIn() as api:
        with pytest.raises(FrameTooLarge):
            notifier_for(api.url).push(CONN, {"type": "message", "content": "漫" * 11_000})
        assert api.posts == []


def test_gone_means_the_client_left() -> None:
    with ManagementApiStandIn(gone_after=1) as api:
        notifier = notifier_for(api.url + "/prod")
        notifier.push(CONN, {"type": "chunk", "index": 0})
        with pytest.raises(ConnectionGone):
            notifier.push(CONN, {"type": "chunk", "index": 1})
        assert [(p.connection_id, p.status) for p in api.posts] == [(CONN, 200), (CONN, 410)]  # no retry


@pytest.mark.parametrize(
    ("status", "code"),
    [(500, "InternalServerErrorException"), (503, "ServiceUnavailable"), (429, "LimitExceededException")],
)
def test_throttling_and_5xx_are_retried_by_botocore_then_succeed(status: int, code: str) -> None:
    with ManagementApiStandIn(errors=[(status, code)]) as api:
        notifier_for(api.url).push(CONN, {"type": "chunk", "index": 0})
        assert [p.status for p in api.posts] == [status, 200]


def test_5xx_that_persists_is_unavailable_after_three_attempts() -> None:
    with ManagementApiStandIn(errors=[(502, "BadGateway")] * 3) as api:
        with pytest.raises(Unavailable):
            notifier_for(api.url).push(CONN, {"type": "chunk", "index": 0})
        assert len(api.posts) == 3


def test_throttling_that_persists_is_unavailable() -> None:
    with ManagementApiStandIn(errors=[(429, "LimitExceededException")] * 3) as api:
        with pytest.raises(Unavailable):
            notifier_for(api.url).push(CONN, {"type": "chunk", "index": 0})
        assert len(api.posts) == 3


def test_a_refused_post_is_our_fault_and_propagates() -> None:
    with ManagementApiStandIn(errors=[(403, "ForbiddenException")]) as api:
        with pytest.raises(ClientError) as raised:
            notifier_for(api.url).push(CONN, {"type": "chunk", "index": 0})
        assert raised.value.response["Error"]["Code"] == "ForbiddenException"
        assert len(api.posts) == 1


def test_an_endpoint_that_does_not_answer_is_unavailable() -> None:
    with ManagementApiStandIn() as api:
        url = api.url
    with pytest.raises(Unavailable):
        notifier_for(url).push(CONN, {"type": "chunk", "index": 0})


def test_close_deletes_the_connection() -> None:
    with ManagementApiStandIn() as api:
        notifier_for(api.url).close(CONN)
        assert api.deleted == [CONN]


def test_closing_a_connection_already_gone_is_no_error() -> None:
    with ManagementApiStandIn(errors=[(410, "GoneException")]) as api:
        notifier_for(api.url).close(CONN)
        assert api.deleted == [CONN]
