"""moto for the tests and benchmarks: an in-process table, and moto over HTTP on a free local port."""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto import mock_aws
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from adapters.dynamodb.client import dynamodb_client
from adapters.dynamodb.table import create_table

TABLE = "manga-assist-test"
REGION = "us-east-1"


def partition_items(client: Any, session_id: str, table: str = TABLE) -> list[dict[str, Any]]:
    """Every item of a session's partition, read back strongly consistent, every page."""
    pages = client.get_paginator("query").paginate(
        TableName=table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"SESSION#{session_id}"}},
        ConsistentRead=True,
    )
    return [item for page in pages for item in page["Items"]]


@contextmanager
def moto_table(table: str = TABLE) -> Iterator[Any]:
    """An in-process moto DynamoDB with the table created; yields a client made inside the mock."""
    with mock_aws():
        client = dynamodb_client(region=REGION)
        create_table(client, table)
        yield client


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's own server (every service it models) on 127.0.0.1 and a free port; yields its URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


class _QuietHandler(MotoRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class LocalMotoServer(ThreadedMotoServer):
    """moto over HTTP on 127.0.0.1, on a port the OS picks.

    moto's DynamoDB backend is not thread-safe: a transaction deep-copies the table and puts the copy
    back when it is cancelled, with no lock, so two clients writing at once can undo each other's
    committed writes — something DynamoDB, which serializes the writes to an item, never does. The
    server therefore handles one request at a time. ``delay`` seconds are slept before each request,
    outside that lock, as network latency would be: parallel calls overlap their delays.
    """

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__(ip_address="127.0.0.1", port=0, verbose=False)
        self.delay = delay
        self._serial = threading.Lock()

    def _server_entry(self) -> None:
        moto_app = DomainDispatcherApplication(create_backend_app)

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            if self.delay:
                time.sleep(self.delay)
            with self._serial:
                return list(moto_app(environ, start_response))

        self._server = make_server(
            self._ip_address, self._port, app, threaded=True, request_handler=_QuietHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()

    @property
    def url(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"

    def reset(self) -> None:
        """Forget every table and queue (moto's own reset endpoint)."""
        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")).read()
