"""How ``manga-assist serve`` shows its logs. By default, for a person: one line per event with the
time, level, handler, ids and what happened (a traceback, when there is one, indented below it).
With ``--log-format json``, the JSON lines the deployed functions write to CloudWatch.

Either way the lines come from the same Powertools formatter with the same keys: only how a record
is written out differs, so nothing a handler logs is lost in the readable form."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from entrypoints.lambda_logging import logger as lambda_logger

# The ids worth a glance, in this order, and their short names.
IDS = (("connection_id", "conn"), ("session_id", "session"), ("message_id", "msg"))
# Keys of every line that a person does not need on each one.
QUIET = {
    "level",
    "message",
    "timestamp",
    "service",
    "location",
    "name",
    "function",
    "lambda_request_id",
    "api_request_id",
    "exception",
    "exception_name",
    "xray_trace_id",
}
FUNCTION_PREFIX = "manga-assist-"


def readable(log: dict[str, Any]) -> str:
    """One log record (Powertools' dict) as one line for a person."""
    clock = str(log.get("timestamp", ""))[11:23]
    source = str(log.get("function") or log.get("name", "")).removeprefix(FUNCTION_PREFIX)
    if source.startswith("entrypoints.local."):
        source = "gateway"
    parts = [clock, f"{log.get('level', ''):<7}", f"{source:<12}", str(log.get("message", ""))]
    parts += [f"{short}={log[key]}" for key, short in IDS if log.get(key)]
    parts += [
        f"{key}={_value(value)}" for key, value in log.items() if key not in QUIET and key not in dict(IDS)
    ]
    line = " ".join(part for part in parts if part)
    if log.get("exception"):
        line += "\n" + "\n".join("    " + row for row in str(log["exception"]).splitlines())
    return line


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def configure(log_format: str = "text", verbose: bool = False) -> None:
    """Every logger of the process (the handlers' Powertools logger and the standard ones) writes
    to stderr in ``log_format``; the standard ones at INFO, or DEBUG when ``verbose``."""
    serializer = readable if log_format == "text" else None
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_formatter(serializer))
    handler.addFilter(lambda record: record.name != lambda_logger.name)
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler], force=True)
    logging.getLogger("botocore").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # Every handler thread shares one Management API client, whose pool keeps 10 connections: past
    # 10 concurrent pushes urllib3 opens extra ones and warns as it drops them. Harmless here.
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
    powertools = lambda_logger.registered_handler
    if isinstance(powertools, logging.StreamHandler):
        powertools.setStream(sys.stderr)  # stdout is the banner's; logs go beside errors
    powertools.setFormatter(_formatter(serializer))


def _formatter(serializer: Any) -> LambdaPowertoolsFormatter:
    if serializer is None:
        return LambdaPowertoolsFormatter(service=lambda_logger.service)
    return LambdaPowertoolsFormatter(service=lambda_logger.service, json_serializer=serializer)
