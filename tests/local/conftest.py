from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from entrypoints import connect
from entrypoints.local.environment import ServeOptions
from testing.aws import moto_server
from tests.local.server_thread import ServerThread


@pytest.fixture
def start_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., ServerThread]]:
    """Start ``serve`` in this process (memory store and fake model unless told otherwise)."""
    started: list[ServerThread] = []

    def start(options: ServeOptions | None = None, **env: str) -> ServerThread:
        server = ServerThread(options or ServeOptions(host="127.0.0.1", port=0), monkeypatch, **env)
        started.append(server.start())
        return server

    yield start
    for server in reversed(started):
        server.stop()


@pytest.fixture
def server(start_server: Callable[..., ServerThread]) -> ServerThread:
    return start_server()


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every ``$connect`` event the server passes on (the authorizer's word included), in order."""
    seen: list[dict[str, Any]] = []
    real: Callable[[dict[str, Any], Any], dict[str, Any]] = connect.handler

    def recorded(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(event)
        return real(event, context)

    monkeypatch.setattr(connect, "handler", recorded)
    return seen


@pytest.fixture
def moto_endpoint() -> Iterator[str]:
    """A moto server on a free loopback port, for ``serve --store dynamodb``."""
    with moto_server() as url:
        yield url
