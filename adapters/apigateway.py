"""Pushes frames through the API Gateway Management API (``post_to_connection``): the production
path, used in every mode (the local server answers the same API)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from application.errors import ConnectionGone, Unavailable
from application.ports import Frame

# API Gateway refuses WebSocket frames over 128 KB.
MAX_FRAME_BYTES = 128 * 1024
GONE_CODES = {"GoneException"}


class FrameTooLarge(ValueError):
    """A frame over API Gateway's limit: our bug, since replies are split before they get here."""


def encode_frame(frame: Frame) -> bytes:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


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
        if self._client is None:
            assert self._factory is not None
            self._client = self._factory()
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=data)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in GONE_CODES or status == 410:
                raise ConnectionGone(connection_id) from error
            if status is not None and (status >= 500 or status == 429):
                raise Unavailable(f"post_to_connection: {code}") from error
            raise
        except BotoCoreError as error:  # connection refused, timeouts: after botocore's own retries
            raise Unavailable(f"post_to_connection: {type(error).__name__}") from error


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
                    config=Config(
                        retries={"mode": "standard", "max_attempts": 3},
                        connect_timeout=2,
                        read_timeout=5,
                        tcp_keepalive=True,
                    ),
                )
                self._clients[endpoint] = found
            return found

    def notifier(self, endpoint: str) -> ApiGatewayNotifier:
        return ApiGatewayNotifier(client_factory=lambda: self.client(endpoint))
