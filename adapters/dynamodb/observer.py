"""Metrics from the DynamoDB client itself, seen through botocore's events: every retry botocore made
(``ResponseMetadata.RetryAttempts``) or that a transaction conflict will cost us, and every
conditional-check failure — expected (a repeated message id, a race, a session moved on) and handled
by the code, so counted apart from errors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from application.ports import Telemetry
from application.telemetry import EXPECTED_CONDITION_FAILURES, STORE_RETRIES

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CONDITION_CODES = frozenset({"ConditionalCheckFailedException"})


def observe(client: DynamoDBClient, telemetry: Telemetry) -> DynamoDBClient:
    def after_call(parsed: dict[str, Any] | None = None, **_: Any) -> None:
        if not parsed:
            return
        retries = int(parsed.get("ResponseMetadata", {}).get("RetryAttempts") or 0)
        code = parsed.get("Error", {}).get("Code")
        reasons = [r.get("Code") for r in parsed.get("CancellationReasons") or []]
        if code == "TransactionCanceledException" and "TransactionConflict" in reasons:
            retries += 1  # the repository tries the transaction again
        if code == "TransactionConflictException":
            retries += 1  # the writer tries the single-item write again
        if retries:
            telemetry.count(STORE_RETRIES, retries)
        if code in CONDITION_CODES or "ConditionalCheckFailed" in reasons:
            telemetry.count(EXPECTED_CONDITION_FAILURES)

    client.meta.events.register("after-call.dynamodb", after_call)
    return client
