"""``manga-assist redrive`` against SQS on moto: a letter that still fails is reported once, not re-read."""

from __future__ import annotations

import contextlib
import io
import json

import boto3
import pytest
from moto import mock_aws

from entrypoints.cli import main


def test_a_letter_that_still_fails_is_reported_once_and_stays_in_the_dlq(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SESSION_STORE", "memory")
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
        sqs.send_message(QueueUrl=dlq, MessageBody='{"format": "not-ours"}')
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(["redrive", "--dlq-url", dlq, "--replay", "--json", "--max", "50"])
        report = json.loads(out.getvalue())
        assert code == 1 and len(report["failed"]) == 1 and report["stored"] == []
        attributes = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["All"])["Attributes"]
        assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"  # kept, for a later look


def test_moving_letters_back_empties_the_dlq_into_the_retry_queue() -> None:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
        queue = sqs.create_queue(QueueName="retry")["QueueUrl"]
        for n in range(12):
            sqs.send_message(QueueUrl=dlq, MessageBody=f'{{"n": {n}}}')
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["redrive", "--dlq-url", dlq, "--queue-url", queue, "--json"]) == 0
        assert len(json.loads(out.getvalue())["moved"]) == 12
        counts = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])
        assert counts["Attributes"]["ApproximateNumberOfMessages"] == "12"
