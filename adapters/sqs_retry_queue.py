"""The retry queue on SQS (``RETRY_QUEUE_URL``): a write that failed after retries waits there for
the turn writer. Messages are in ``adapters.retry_message``'s versioned format."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from adapters.retry_message import FORMAT, VERSION, encode_pending_write
from application.errors import Unavailable
from application.ports import PendingWrite

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_sqs import SQSClient

log = logging.getLogger(__name__)


class SqsRetryQueue:
    def __init__(
        self, queue_url: str, client: Any | None = None, client_factory: Callable[[], Any] | None = None
    ) -> None:
        if client is None and client_factory is None:
            raise ValueError("give a client or a way to make one")
        self._queue_url = queue_url
        self._client = client
        self._factory = client_factory

    def enqueue(self, write: PendingWrite) -> None:
        if self._client is None:
            assert self._factory is not None
            self._client = self._factory()
        try:
            self._client.send_message(
                QueueUrl=self._queue_url,
                MessageBody=encode_pending_write(write),
                MessageAttributes={"format": {"DataType": "String", "StringValue": f"{FORMAT}/{VERSION}"}},
            )
        except (ClientError, BotoCoreError) as error:
            # Whatever the cause, the write is not durable: the caller must fail loudly, not drop it.
            log.error("the retry queue refused a pending write", exc_info=True)
            raise Unavailable(f"SQS SendMessage: {type(error).__name__}") from error


def sqs_client(session: boto3.session.Session, region: str | None = None) -> SQSClient:
    """An SQS client with botocore's standard retries; it honours ``AWS_ENDPOINT_URL_SQS``."""
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5, tcp_keepalive=True
    )
    return session.client("sqs", region_name=region, config=config)
