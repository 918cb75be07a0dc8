"""Invokes the real Lambda handlers as the Lambda service would: one route per function, a fresh
context per invocation, and the work off the event loop on a thread pool, so that one slow reply
never stalls another connection. API Gateway waits for an integration at most 29 s: past that the
gateway gives up on the answer, while the function runs on to its own timeout, as Lambda's does."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from attrs import define, field, frozen

from entrypoints import connect, disconnect, message

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], Any]
ACCOUNT = "000000000000"
FUNCTION_TIMEOUT_SECONDS = 30  # the template's message function; the context's deadline
INTEGRATION_TIMEOUT_SECONDS = 29.0  # API Gateway stops waiting for an integration after 29 s


@frozen
class LambdaFunction:
    name: str
    handler: Handler
    memory_limit_in_mb: int = 512


@frozen
class Invocation:
    """What API Gateway learns from one integration: the status code and headers of the function's
    answer (never its body), or that the function raised, or that it did not answer in time."""

    status: int
    headers: dict[str, str] = field(factory=dict)
    raised: bool = False
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


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
        self,
        region: str,
        workers: int = 64,
        routes: Mapping[str, LambdaFunction] | None = None,
        timeout: float = INTEGRATION_TIMEOUT_SECONDS,
    ) -> None:
        self._region = region
        self._routes = dict(routes or default_routes())
        self._timeout = timeout
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lambda")
        self._pending: set[asyncio.Future[Invocation]] = set()

    def context_for(self, function: LambdaFunction) -> LambdaContext:
        return LambdaContext(
            function_name=function.name,
            invoked_function_arn=f"arn:aws:lambda:{self._region}:{ACCOUNT}:function:{function.name}",
            memory_limit_in_mb=function.memory_limit_in_mb,
            aws_request_id=str(uuid.uuid4()),
            deadline_ms=time.time_ns() // 1_000_000 + FUNCTION_TIMEOUT_SECONDS * 1000,
        )

    def _run(self, route: str, event: dict[str, Any]) -> Invocation:
        function = self._routes[route]
        try:
            result = function.handler(event, self.context_for(function))
        except Exception:  # a function error: API Gateway answers 502 (or an error frame)
            log.exception("%s failed", function.name)
            return Invocation(502, raised=True)
        if not isinstance(result, Mapping):
            return Invocation(200)
        code = result.get("statusCode")
        headers = result.get("headers")
        return Invocation(
            code if isinstance(code, int) else 200,
            {str(k): str(v) for k, v in headers.items()} if isinstance(headers, Mapping) else {},
        )

    async def invoke(self, route: str, event: dict[str, Any]) -> Invocation:
        """Run the route's handler on the pool and wait for it at most the integration timeout.
        Its body goes nowhere, as in API Gateway without route responses."""
        future = asyncio.get_running_loop().run_in_executor(self._executor, self._run, route, event)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        try:
            return await asyncio.wait_for(asyncio.shield(future), self._timeout)
        except TimeoutError:
            log.warning("%s: no answer within %.0f s; API Gateway gives up", route, self._timeout)
            return Invocation(504, timed_out=True)

    async def drain(self) -> None:
        """Wait for the invocations still running (graceful shutdown)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=False)
