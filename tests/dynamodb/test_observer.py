"""The DynamoDB client's own metrics: retries and expected conditional-check failures."""

from __future__ import annotations

import pytest
from dependency_injector import providers

from entrypoints.container import build_container
from testing.harness import Chat
from testing.telemetry import RecordingTelemetry
from tests.dynamodb.faults import InjectedFaults, reply_transaction


def test_retries_and_expected_condition_failures_are_counted_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    from testing.aws import TABLE, moto_table

    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    with moto_table():
        telemetry = RecordingTelemetry()
        container = build_container({"SESSION_STORE": "dynamodb", "SESSION_TABLE": TABLE})
        container.adapters.telemetry.override(providers.Object(telemetry))  # before anything resolves it
        chat = Chat(container=container)
        try:
            assert chat.connect("c1", "cust-1") == 200
            assert chat.say("c1", "hello", "m-1") == 200
            assert telemetry.total("ExpectedConditionalCheckFailures") == 0
            assert (
                chat.say("c1", "hello", "m-1") == 200
            )  # a repeat: its record's condition fails, as expected
            assert telemetry.total("ExpectedConditionalCheckFailures") >= 1
            faults = InjectedFaults(chat.container.adapters.dynamodb_client())
            faults.fail(
                "TransactWriteItems",
                code="TransactionCanceledException",
                reasons=["None", "TransactionConflict", "None"],
                when=reply_transaction,
            )
            assert chat.say("c1", "and again?", "m-2") == 200
            assert telemetry.total("DynamoDBRetries") >= 1
        finally:
            chat.close()
