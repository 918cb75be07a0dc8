"""The systems under attack: the real handlers (``Chat``) on the in-memory store or on DynamoDB (moto
in-process), with a notifier that only accepts what production could send."""

from __future__ import annotations

import copy
import functools
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from dependency_injector import providers

from entrypoints import message
from entrypoints.container import build_container
from testing.aws import TABLE, moto_table
from testing.fakes import ManualClock
from testing.harness import TEST_LIMITS, Chat, message_event
from tests.adversarial.oracle import EncodingNotifier
from tests.adversarial.strategies import RawFrame

DYNAMODB_ENV = {"SESSION_STORE": "dynamodb", "SESSION_TABLE": TABLE}
_ids = itertools.count(1)


def fresh_id(prefix: str) -> str:
    """Unique in the process, in API Gateway's connection id alphabet."""
    return f"{prefix}{next(_ids):08d}="


@functools.cache
def shared_boto_session() -> boto3.session.Session:
    """One boto3 session for every test container: each new session parses botocore's JSON models
    again (a third of a second a container); clients stay per container, as in separate processes."""
    return boto3.session.Session()


class StrictChat(Chat):
    """``Chat`` whose frames go through ``EncodingNotifier``."""

    notifier: EncodingNotifier

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.notifier = EncodingNotifier()
        self.container.adapters.notifier.override(providers.Object(self.notifier))

    def send_raw(self, connection_id: str, frame: RawFrame, request_message_id: str) -> int:
        event = message_event(connection_id, None, request_message_id)
        event["body"] = frame.body
        event["isBase64Encoded"] = frame.is_base64
        code = int(message.handler(copy.deepcopy(event), None)["statusCode"])
        self.statuses.append(code)
        self.settle()
        return code


@contextmanager
def memory_chat(clock: ManualClock | None = None, env: dict[str, str] | None = None) -> Iterator[StrictChat]:
    chat = StrictChat(env=env or {}, clock=clock or ManualClock())
    try:
        yield chat
    finally:
        chat.close()


@contextmanager
def dynamodb_chat(
    clock: ManualClock | None = None, env: dict[str, str] | None = None
) -> Iterator[StrictChat]:
    """The container's own DynamoDB adapter and boto3 client, on moto in this process."""
    with moto_table(), chat_on_table(clock, env) as chat:
        yield chat


@contextmanager
def chat_on_table(
    clock: ManualClock | None = None, env: dict[str, str] | None = None
) -> Iterator[StrictChat]:
    """A new process's worth of the system on the table of a moto mock already running."""
    container = build_container({**TEST_LIMITS, **DYNAMODB_ENV, **(env or {})})
    container.adapters.boto_session.override(providers.Object(shared_boto_session()))
    chat = StrictChat(container=container, clock=clock or ManualClock())
    repository = chat.repository
    try:
        yield chat
    finally:
        chat.close()
        repository.close()
