"""Invokes the real Lambda handlers as the Lambda service would: one route per function, a fresh
context per invocation, and the work off the event loop on a thread pool, so that one slow reply
never stalls another connection."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from attrs import define, frozen

from entrypoints import connect, disconnect, message

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], Any]
ACCOUNT = "000000000000"
TIMEOUT_SECONDS = 29  # API Gateway stops waiting for an integration after 29 s


@frozen
class LambdaFunction:
    name: str
    handler: Handler
    memory_limit_in_mb: int = 512


@define
class LambdaContext:
    """The attributes of the Python runtime's context object that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    deadline_ms: int
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - time.time_ns() // 1_000_000)


def default_routes() -> dict[str, LambdaFunction]:
    # Looked up through the modules at each call, so that a test's monkeypatch is seen.
    return {
        "$connect": LambdaFunction("manga-assist-connect", lambda e, c: connect.handler(e, c)),
        "$default": LambdaFunction("manga-assist-message", lambda e, c: message.handler(e, c)),
        "$disconnect": LambdaFunction("manga-assist-disconnect", lambda e, c: disconnect.handler(e, c)),
    }


class LambdaInvoker:
    def __init__(
        self, region: str, workers: int = 64, routes: Mapping[str, LambdaFunction] | None = None
    ) -> None:
        self._region = region
        self._routes = dict(routes or default_routes())
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lambda")
        self._pending: set[asyncio.Future[int]] = set()

    def context_for(self, function: LambdaFunction) -> LambdaContext:
        return LambdaContext(
            function_name=function.name,
            invoked_function_arn=f"arn:aws:lambda:{self._region}:{ACCOUNT}:function:{function.name}",
            memory_limit_in_mb=function.memory_limit_in_mb,
            aws_request_id=str(uuid.uuid4()),
            deadline_ms=time.time_ns() // 1_000_000 + TIMEOUT_SECONDS * 1000,
        )

    def _run(self, route: str, event: dict[str, Any]) -> int:
        function = self._routes[route]
        try:
            result = function.handler(event, self.context_for(function))
        except Exception:  # an unhandled error is a failed invocation: API Gateway sees a 500
            log.exception("%s failed", function.name)
            return 500
        code = result.get("statusCode") if isinstance(result, Mapping) else None
        return code if isinstance(code, int) else 200

    async def invoke(self, route: str, event: dict[str, Any]) -> int:
        """Run the route's handler on the pool; its status code (the body goes nowhere, as in
        API Gateway without route responses)."""
        future = asyncio.get_running_loop().run_in_executor(self._executor, self._run, route, event)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        return await future

    def invoke_soon(self, route: str, event: dict[str, Any]) -> None:
        """Fire and forget, as API Gateway invokes ``$default`` for each frame."""
        task = asyncio.ensure_future(self.invoke(route, event))
        task.add_done_callback(_log_failure)

    async def drain(self) -> None:
        """Wait for the invocations still running (graceful shutdown)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=False)


def _log_failure(task: asyncio.Future[int]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("invocation failed", exc_info=task.exception())
