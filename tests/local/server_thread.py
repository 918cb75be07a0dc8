"""The local gateway on its own event loop in a thread, listening on 127.0.0.1 and a free port, with
the same wiring as ``manga-assist serve``: the environment it sets, the process's container."""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

import boto3
import pytest
from aiohttp import web
from attrs import evolve

from entrypoints.authorizer_container import build_authorizer_container, set_authorizer_container
from entrypoints.container import Container, build_container, set_container
from entrypoints.local.app import REGISTRY, make_app
from entrypoints.local.environment import ServeOptions, server_environment
from entrypoints.local.serve import listen


class ServerThread:
    def __init__(self, options: ServeOptions, monkeypatch: pytest.MonkeyPatch, **container_env: str) -> None:
        # A test that names no mode speaks for its customer in the query string (AUTH_MODE=none);
        # the authentication tests say which mode they run.
        self.options = evolve(options, auth=options.auth or "none").resolved(os.environ)
        self._listener = listen("127.0.0.1", 0)
        self.port: int = self._listener.getsockname()[1]
        for name, value in {
            **server_environment(self.options, self.port, os.environ),
            **container_env,
        }.items():
            monkeypatch.setenv(name, value)
        self.container: Container = build_container(dict(os.environ))
        self.authorizer = build_authorizer_container(dict(os.environ))
        self.app = make_app(self.options, self.port, self.container.config.region())
        self._loop = asyncio.new_event_loop()
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=5)
        self._thread = threading.Thread(target=self._loop.run_forever, name="local-gateway", daemon=True)

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def management_api(self) -> Any:
        """The real boto3 Management API client, pointed at this server."""
        return boto3.client("apigatewaymanagementapi", endpoint_url=self.http_url, region_name="us-east-1")

    def connection_ids(self) -> list[str]:
        async def read() -> list[str]:
            return [c.connection_id for c in self.app[REGISTRY].all()]

        ids: list[str] = self.call(read())
        return ids

    def call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    def start(self) -> ServerThread:
        set_container(self.container)
        set_authorizer_container(self.authorizer)
        self._thread.start()
        self.call(self._runner.setup())
        self.call(web.SockSite(self._runner, self._listener).start())
        return self

    def stop(self) -> None:
        """As on Ctrl-C: stop listening, close every socket (each gets its ``$disconnect``), drain."""
        if self._thread.is_alive():
            self.call(self._runner.cleanup())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()
        set_container(None)
        set_authorizer_container(None)
