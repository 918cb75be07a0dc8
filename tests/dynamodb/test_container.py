"""``SESSION_STORE`` and ``RETRY_QUEUE_URL`` select the adapters; memory mode never loads the DynamoDB
adapter (nor cattrs); boto3's own endpoint variables reach the clients."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from adapters.dynamodb.repository import DynamoDBSessionRepository
from adapters.memory import InMemorySessionRepository
from adapters.memory_retry_queue import InMemoryRetryQueue
from adapters.sqs_retry_queue import SqsRetryQueue
from entrypoints.container import build_container

ROOT = Path(__file__).resolve().parents[2]


def test_memory_mode_loads_neither_the_dynamodb_adapter_nor_cattrs() -> None:
    probe = (
        "import sys\n"
        "from entrypoints import connect, message, disconnect\n"
        "from entrypoints.container import build_container\n"
        "c = build_container({})\n"
        "c.adapters.repository(); c.adapters.retry_queue()\n"
        "loaded = [m for m in sys.modules if m.startswith(('cattrs', 'adapters.dynamodb', 'adapters.sqs'))]\n"
        "print(loaded)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_store_and_the_queue_follow_the_configuration() -> None:
    memory = build_container({})
    assert isinstance(memory.adapters.repository(), InMemorySessionRepository)
    assert isinstance(memory.adapters.retry_queue(), InMemoryRetryQueue)
    assert memory.adapters.retry_queue() is memory.adapters.retry_queue()  # one queue per process

    dynamodb = build_container({"SESSION_STORE": "dynamodb", "SESSION_TABLE": "t-1"})
    repository = dynamodb.adapters.repository()
    assert isinstance(repository, DynamoDBSessionRepository) and repository.table_name == "t-1"
    assert repository is dynamodb.adapters.repository()
    assert dynamodb.adapters.retry_queue() is None  # a refused reply then fails loudly

    queued = build_container({"SESSION_STORE": "dynamodb", "RETRY_QUEUE_URL": "https://sqs.example/q"})
    assert isinstance(queued.adapters.retry_queue(), SqsRetryQueue)


def test_each_container_makes_its_own_clients() -> None:
    first = build_container({"SESSION_STORE": "dynamodb"}).adapters.dynamodb_client()
    second = build_container({"SESSION_STORE": "dynamodb"}).adapters.dynamodb_client()
    assert first is not second


@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"])
def test_the_clients_honour_boto3s_endpoint_variables(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "http://127.0.0.1:4566")
    container = build_container({"SESSION_STORE": "dynamodb"})
    assert container.adapters.dynamodb_client().meta.endpoint_url == "http://127.0.0.1:4566"
    assert container.adapters.dynamodb_client().meta.config.retries["mode"] == "standard"
