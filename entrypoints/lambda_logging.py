"""What every entrypoint shares for operations: the Powertools logger (JSON lines carrying the
invocation's ids; ``POWERTOOLS_LOG_LEVEL=DEBUG`` for more) and Powertools metrics (CloudWatch
Embedded Metric Format, flushed once per invocation by ``observed``).

Customers' words never reach a log line at INFO: lines carry ids, sizes and outcomes only."""

from __future__ import annotations

import functools
import logging
import os
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "manga-assist")


class _CurrentStdout:
    """Writes to whatever ``sys.stdout`` is at the moment of writing, not the one at import: a test
    runner that captures or replaces stdout (pytest, mutmut running pytest again and again in one
    process) would otherwise leave the logger holding a closed stream."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


logger = Logger(service=SERVICE, logger_handler=logging.StreamHandler(_CurrentStdout()))
metrics = Metrics(service=SERVICE, namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "MangaAssist"))
# The metric set is one per process. Under `manga-assist serve` handlers run on threads of one process:
# without one lock for adding and flushing, a flush finds the set emptied by another thread's flush
# (SchemaValidationError) or changed under it (RuntimeError), and fails an invocation that succeeded.
METRICS_LOCK = threading.Lock()
OUR_PACKAGES = {"domain", "application", "adapters", "entrypoints"}
_shared = False

Handler = Callable[[Any, Any], Any]


def bind(context: Any, **keys: str | None) -> None:
    """Attach the invocation's ids to every log line of this invocation (and only of this one),
    including those of the application's and adapters' own loggers."""
    global _shared
    if not _shared:
        # Our modules log through the standard library; give them the same JSON formatter and keys.
        copy_config_to_registered_loggers(source_logger=logger, include=_our_loggers())
        _shared = True
    # Thread-local keys: in Lambda one invocation runs at a time, but `manga-assist serve` runs many
    # handlers on threads of one process, and shared keys would cross from one call to another.
    logger.thread_safe_clear_keys()
    request_id = getattr(context, "aws_request_id", None)
    add_keys(lambda_request_id=request_id, function=getattr(context, "function_name", None), **keys)


def add_keys(**keys: str | None) -> None:
    logger.thread_safe_append_keys(**{k: v for k, v in keys.items() if v})


def _our_loggers() -> set[str]:
    return {name for name in logging.root.manager.loggerDict if name.split(".", 1)[0] in OUR_PACKAGES}


def event_ids(event: Mapping[str, Any]) -> dict[str, str | None]:
    context = event.get("requestContext") or {}
    return {"connection_id": context.get("connectionId"), "api_request_id": context.get("requestId")}


def observed(handler: Handler) -> Handler:
    """Flush the invocation's metrics when the handler returns (or raises)."""

    @functools.wraps(handler)
    def run(event: Any, context: Any) -> Any:
        try:
            return handler(event, context)
        finally:
            with METRICS_LOCK:
                if metrics.metric_set:
                    metrics.flush_metrics()

    return run
