"""How the table's failures are told apart, in one place.

- Throttling (``ProvisionedThroughputExceededException``, ``ThrottlingException``,
  ``RequestLimitExceeded``), 5xx and dropped connections are retried by botocore (``standard`` retry
  mode, ``client_config``); whatever still fails becomes ``application.errors.Unavailable`` (503).
- ``TransactionConflictException``: a single-item write (PutItem, UpdateItem) met an item that an
  in-flight transaction holds. botocore does not retry it; ``PartitionWriter`` does, with the same
  backoff, then ``Unavailable``.
- A ``TransactionCanceledException`` is decided from its ``CancellationReasons``, item by item, never
  from its message: ``ConditionalCheckFailed`` is for the caller to judge (often a repeat, which is a
  success); ``TransactionConflict`` and throttling reasons are retried here, with bounded
  exponential backoff and full jitter (``Backoff``), then become ``Unavailable``.
- ``ValidationException``, ``ResourceNotFoundException``, ``AccessDeniedException`` and anything
  else unknown propagate unchanged: they are our bug or our deployment's, and retrying hides them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import cast

from attrs import define, frozen
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

from adapters.dynamodb.layout import Item
from application.errors import Unavailable

TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
    }
)
RETRYABLE_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
)
CONDITION_FAILED = "ConditionalCheckFailed"
TRANSACTION_CONFLICT = "TransactionConflictException"


def client_config() -> Config:
    """botocore's own retries and timeouts for every DynamoDB call. Three attempts keep the worst
    case inside the message function's 30 s; keep-alive spares a TLS handshake per warm call."""
    return Config(
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=2,
        read_timeout=5,
        tcp_keepalive=True,
        max_pool_connections=50,  # the reads run on up to 32 threads (repository.READ_THREADS)
    )


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def is_transient(error: ClientError) -> bool:
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    return error_code(error) in TRANSIENT_CODES or int(status) >= 500


@contextmanager
def translated(operation: str) -> Iterator[None]:
    """Transient failures left after botocore's retries become ``Unavailable``; the rest propagate."""
    try:
        yield
    except ClientError as error:
        if is_transient(error):
            raise Unavailable(f"DynamoDB {operation}: {error_code(error)}") from error
        raise
    except (ConnectionError, HTTPClientError) as error:
        raise Unavailable(f"DynamoDB {operation}: {type(error).__name__}") from error


@frozen
class Reason:
    """Why one item of a cancelled transaction failed; ``item`` is its old image when it existed and
    the request asked for ``ALL_OLD``."""

    code: str
    item: Item | None = None

    @property
    def condition_failed(self) -> bool:
        return self.code == CONDITION_FAILED

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE_REASONS


def cancellation_reasons(error: ClientError) -> list[Reason] | None:
    """The reasons of a cancelled transaction, in the order of its items; ``None`` for other errors."""
    if error_code(error) != "TransactionCanceledException":
        return None
    raw = error.response.get("CancellationReasons") or []
    return [Reason(str(r.get("Code") or "None"), cast(Item | None, r.get("Item"))) for r in raw]


@define
class Backoff:
    """Bounded exponential backoff with full jitter, for retries botocore does not make itself."""

    attempts: int = 5
    base_seconds: float = 0.025
    cap_seconds: float = 0.5
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random
    floor: float = 0.0  # the least share of each step always waited (0: full jitter)

    def pause(self, attempt: int) -> None:
        step = min(self.cap_seconds, self.base_seconds * 2**attempt)
        self.sleep(step * (self.floor + (1 - self.floor) * self.jitter()))
