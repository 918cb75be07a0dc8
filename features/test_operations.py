"""Steps of operations.feature: DynamoDB and SQS on moto, in process; the operator's real commands."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from attrs import frozen
from moto import mock_aws
from pytest_bdd import given, parsers, scenarios, then, when

from adapters.dynamodb.table import create_table
from entrypoints import turn_writer
from entrypoints.cli import main
from features.conftest import World
from testing.fakes import ManualClock
from testing.harness import Chat
from tests.dynamodb.faults import InjectedFaults, reply_transaction

scenarios("operations.feature")

TABLE = "manga-assist-ops"
MAX_RECEIVES = 2


@frozen
class Queues:
    sqs: Any  # a boto3 SQS client
    retry: str
    dead_letters: str


@frozen
class Redrive:
    exit_code: int
    report: dict[str, Any]


@pytest.fixture(autouse=True)
def _aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """DynamoDB and SQS on moto, in process, for the whole scenario."""
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    with mock_aws():
        yield


@pytest.fixture
def queues() -> Queues:
    raise LookupError("the scenario starts with: MangaAssist runs on DynamoDB with a retry queue …")


@pytest.fixture
def world(clock: ManualClock, queues: Queues) -> Iterator[World]:
    """The same steps as every feature, on DynamoDB and SQS: built once the queues exist."""
    env = {"SESSION_STORE": "dynamodb", "SESSION_TABLE": TABLE, "RETRY_QUEUE_URL": queues.retry}
    chat = Chat(env=env, clock=clock)
    create_table(chat.container.adapters.dynamodb_client(), TABLE)
    yield World(chat, clock)
    chat.close()


@given("MangaAssist runs on DynamoDB with a retry queue and its dead-letter queue", target_fixture="queues")
def on_dynamodb(monkeypatch: pytest.MonkeyPatch) -> Queues:
    import boto3

    sqs = boto3.client("sqs", region_name="us-east-1")
    dlq = sqs.create_queue(QueueName="manga-assist-retry-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)})
    queue = sqs.create_queue(
        QueueName="manga-assist-retry",
        Attributes={"RedrivePolicy": redrive, "VisibilityTimeout": "0"},
    )["QueueUrl"]
    env = {"SESSION_STORE": "dynamodb", "SESSION_TABLE": TABLE, "RETRY_QUEUE_URL": queue}
    for name, value in env.items():
        monkeypatch.setenv(name, value)  # the operator's commands read the environment
    return Queues(sqs, queue, dlq)


@given("the table refuses every reply write", target_fixture="faults")
def refuses(world: World) -> InjectedFaults:
    faults = InjectedFaults(world.chat.container.adapters.dynamodb_client())
    faults.fail("TransactWriteItems", code="InternalServerError", times=10_000, when=reply_transaction)
    return faults


@then(parsers.parse('connection "{name}" still receives the reply'))
def still_receives(world: World, name: str) -> None:
    frame = world.chat.last(world.conn(name))
    assert frame["type"] == "message" and frame["reply_to"] == "m-lost"


@when("the turn writer tries the queued reply until SQS gives up on it")
def turn_writer_gives_up(queues: Queues) -> None:
    sqs = queues.sqs
    for _ in range(MAX_RECEIVES + 1):
        received = sqs.receive_message(
            QueueUrl=queues.retry,
            MaxNumberOfMessages=10,
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            break
        result = turn_writer.handler({"Records": [_sqs_record(m) for m in received]}, None)
        assert len(result["batchItemFailures"]) == len(received)  # still refused: reported, not lost
    attributes = sqs.get_queue_attributes(
        QueueUrl=queues.dead_letters, AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "1"


def _sqs_record(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:manga-assist-retry",
        "awsRegion": "us-east-1",
    }


def _inspect(world: World) -> dict[str, Any]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["inspect", world.session_of("A"), "--json"]) == 0
    timeline: dict[str, Any] = json.loads(out.getvalue())
    return timeline


@then(parsers.parse('inspect shows message "{message_id}" without a reply'))
def inspect_missing(world: World, message_id: str) -> None:
    timeline = _inspect(world)
    assert timeline["unanswered_message_ids"] == [message_id]
    assert [e["role"] for e in timeline["timeline"] if e["kind"] == "turn"] == ["user"]


@when("the table accepts writes again")
def accepts(faults: InjectedFaults) -> None:
    faults.clear()


@when("an operator redrives the dead-letter queue through the turn writer", target_fixture="redrive")
def redrives(queues: Queues) -> Redrive:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["redrive", "--dlq-url", queues.dead_letters, "--replay", "--json"])
    return Redrive(code, json.loads(out.getvalue()))


@then(parsers.parse("the redrive reports {count:d} stored and nothing failed"))
def redrive_report(redrive: Redrive, count: int) -> None:
    report = redrive.report
    assert len(report["stored"]) == count and report["failed"] == [] and redrive.exit_code == 0


@then("inspect shows every message answered")
def inspect_answered(world: World) -> None:
    timeline = _inspect(world)
    assert timeline["unanswered_message_ids"] == []
    assert [e["role"] for e in timeline["timeline"] if e["kind"] == "turn"] == ["user", "assistant"]
