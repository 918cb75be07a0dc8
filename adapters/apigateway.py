"""Pushes frames through the API Gateway Management API (``post_to_connection``): the production
path, used in every mode (the local server answers the same API).

Failures, in the application's words:

- ``GoneException`` (410): the client left. ``ConnectionGone``; the use case stops pushing, still
  stores the reply and marks the session disconnected.
- Throttling (``LimitExceededException``, 429) and 5xx, connection errors and timeouts: retried by
  botocore (standard mode, 3 attempts in all), then ``Unavailable``.
- Anything else (403 ``ForbiddenException``: a wrong endpoint or missing permission) is our fault
  and propagates unchanged.

Frames never exceed API Gateway's 32 KB WebSocket frame (``application.frame_size``): chunks are
split by ``application.streaming``, long replies and histories by ``application.frames`` (several
frames carrying ``part``/``parts``). A frame over the limit is refused here, before any call, as
``FrameTooLarge``: it would be our bug.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from application.errors import ConnectionGone, Unavailable
from application.frame_size import MAX_FRAME_BYTES, encode_frame
from application.ports import Frame

GONE_CODES = frozenset({"GoneException"})
BUSY_CODES = frozenset({"LimitExceededException", "ThrottlingException", "TooManyRequestsException"})
TOO_LARGE_CODES = frozenset({"PayloadTooLargeException"})

# A push is on the reply's critical path: fail fast and let botocore retry the transient errors.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 3},
    connect_timeout=2,
    read_timeout=5,
    tcp_keepalive=True,
)


class FrameTooLarge(ValueError):
    """A frame over API Gateway's limit: our bug, since replies are split before they get here."""


class ApiGatewayNotifier:
    def __init__(self, client: Any | None = None, client_factory: Callable[[], Any] | None = None) -> None:
        if client is None and client_factory is None:
            raise ValueError("give a client or a way to make one")
        self._client = client
        self._factory = client_factory

    def push(self, connection_id: str, frame: Frame) -> None:
        data = encode_frame(frame)
        if len(data) > MAX_FRAME_BYTES:
            raise FrameTooLarge(f"{len(data)} bytes")
        try:
            self._management_api().post_to_connection(ConnectionId=connection_id, Data=data)
        except (ClientError, BotoCoreError) as error:
            failure = _translate(error, connection_id, "post_to_connection")
            if failure is error:
                raise
            raise failure from error

    def close(self, connection_id: str) -> None:
        """Close the connection from our side; one already gone is no error."""
        try:
            self._management_api().delete_connection(ConnectionId=connection_id)
        except (ClientError, BotoCoreError) as error:
            failure = _translate(error, connection_id, "delete_connection")
            if failure is error:
                raise
            if not isinstance(failure, ConnectionGone):
                raise failure from error

    def _management_api(self) -> Any:
        if self._client is None:
            assert self._factory is not None
            self._client = self._factory()
        return self._client


def _translate(error: ClientError | BotoCoreError, connection_id: str, operation: str) -> Exception:
    if isinstance(error, BotoCoreError):  # connection refused, timeouts: after botocore's own retries
        return Unavailable(f"{operation}: {type(error).__name__}")
    code = error.response.get("Error", {}).get("Code")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in GONE_CODES or status == 410:
        return ConnectionGone(connection_id)
    if code in BUSY_CODES or status == 429 or (status is not None and status >= 500):
        return Unavailable(f"{operation}: {code}")
    if code in TOO_LARGE_CODES or status == 413:
        return FrameTooLarge(f"{operation}: {code}")
    return error


class NoManagementApi:
    """A notifier with no endpoint to push to: pushes and closes are dropped."""

    def push(self, connection_id: str, frame: Frame) -> None:  # noqa: ARG002 - the port's signature
        return None

    def close(self, connection_id: str) -> None:  # noqa: ARG002 - the port's signature
        return None


class ManagementApiClients:
    """One boto3 client per callback endpoint, made on first use and kept for the container's life."""

    def __init__(self, session_factory: Callable[[], Any], region: str | None = None) -> None:
        self._session_factory = session_factory
        self._region = region
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def client(self, endpoint: str) -> Any:
        with self._lock:
            found = self._clients.get(endpoint)
            if found is None:
                found = self._session_factory().client(
                    "apigatewaymanagementapi",
                    endpoint_url=endpoint,
                    region_name=self._region,
                    config=CLIENT_CONFIG,
                )
                self._clients[endpoint] = found
            return found

    def notifier(self, endpoint: str) -> ApiGatewayNotifier:
        return ApiGatewayNotifier(client_factory=lambda: self.client(endpoint))
