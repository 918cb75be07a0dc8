"""One place tells the table's failures apart: transient ones become ``Unavailable`` after retries,
our own bugs and deployment mistakes propagate loudly, cancellations are read from their reasons."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from adapters.dynamodb.errors import Backoff, cancellation_reasons, client_config, translated
from adapters.dynamodb.repository import DynamoDBSessionRepository
from application.errors import Unavailable
from tests.dynamodb.faults import InjectedFaults


def client_error(code: str, status: int = 400, **extra: Any) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": "x"},
        "ResponseMetadata": {"HTTPStatusCode": status},
        **extra,
    }
    return ClientError(response, "TransactWriteItems")


@pytest.mark.parametrize(
    "error",
    [
        client_error("ProvisionedThroughputExceededException"),
        client_error("ThrottlingException"),
        client_error("RequestLimitExceeded"),
        client_error("InternalServerError", 500),
        client_error("SomethingNew", 503),
        EndpointConnectionError(endpoint_url="http://127.0.0.1:9"),
        ReadTimeoutError(endpoint_url="http://127.0.0.1:9"),
    ],
)
def test_transient_failures_become_unavailable(error: Exception) -> None:
    with pytest.raises(Unavailable), translated("Query"):
        raise error


@pytest.mark.parametrize(
    "code",
    [
        "ValidationException",
        "ResourceNotFoundException",
        "AccessDeniedException",
        "TransactionCanceledException",
    ],
)
def test_our_faults_propagate_as_they_are(code: str) -> None:
    with pytest.raises(ClientError) as raised, translated("Query"):
        raise client_error(code)
    assert raised.value.response["Error"]["Code"] == code


def test_cancellation_reasons_are_read_item_by_item() -> None:
    old = {"PK": {"S": "SESSION#s"}}
    error = client_error(
        "TransactionCanceledException",
        CancellationReasons=[
            {"Code": "ConditionalCheckFailed", "Item": old},
            {"Code": "None"},
            {"Code": "TransactionConflict"},
        ],
    )
    reasons = cancellation_reasons(error)
    assert reasons is not None
    assert [(r.code, r.condition_failed, r.retryable) for r in reasons] == [
        ("ConditionalCheckFailed", True, False),
        ("None", False, False),
        ("TransactionConflict", False, True),
    ]
    assert reasons[0].item == old
    assert cancellation_reasons(client_error("ThrottlingException")) is None


def test_backoff_is_jittered_and_bounded() -> None:
    slept: list[float] = []
    backoff = Backoff(attempts=8, base_seconds=0.025, cap_seconds=0.5, sleep=slept.append, jitter=lambda: 1.0)
    for attempt in range(8):
        backoff.pause(attempt)
    assert slept == [0.025, 0.05, 0.1, 0.2, 0.4, 0.5, 0.5, 0.5]
    jittered: list[float] = []
    Backoff(sleep=jittered.append).pause(3)
    assert 0 <= jittered[0] <= 0.2


def test_botocore_retries_in_standard_mode_with_timeouts() -> None:
    config = client_config()
    # botocore sets each option as an attribute at runtime; botocore-stubs declares them only as
    # Config()'s parameters.
    assert config.retries == {"mode": "standard", "max_attempts": 3}  # type: ignore[attr-defined]
    assert config.connect_timeout and config.read_timeout and config.tcp_keepalive  # type: ignore[attr-defined]


def test_a_missing_table_fails_loudly(in_process_table: Any) -> None:
    repo = DynamoDBSessionRepository("no-such-table", in_process_table)
    with pytest.raises(ClientError) as raised:
        repo.get("s-1")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_access_denied_is_not_called_unavailable(in_process_table: Any) -> None:
    faults = InjectedFaults(in_process_table)
    faults.fail("GetItem", "AccessDeniedException")
    with pytest.raises(ClientError):
        DynamoDBSessionRepository("manga-assist-test", in_process_table).get("s-1")
