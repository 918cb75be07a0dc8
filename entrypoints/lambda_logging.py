"""The Powertools logger every entrypoint shares: JSON lines with the request's ids."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "manga-assist"))


def bind(context: Any, **keys: str | None) -> None:
    """Attach the invocation's ids to every log line of this invocation (and only of this one)."""
    logger.clear_state()
    request_id = getattr(context, "aws_request_id", None)
    logger.append_keys(**{k: v for k, v in {"lambda_request_id": request_id, **keys}.items() if v})


def event_ids(event: Mapping[str, Any]) -> dict[str, str | None]:
    context = event.get("requestContext") or {}
    return {"connection_id": context.get("connectionId"), "api_request_id": context.get("requestId")}
