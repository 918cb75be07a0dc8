"""The one table from errors to status codes and error frames."""

from __future__ import annotations

import logging
from typing import Any

from application.authentication import NotPermitted, Unauthenticated
from application.errors import ConnectionGone, ModelFailed, Unavailable, WriteNotDurable
from application.ports import Notifier, Telemetry
from application.telemetry import FRAMES_REFUSED
from domain.errors import (
    Conflict,
    InvalidInput,
    MessageTooLarge,
    NotSessionOwner,
    SessionNotFound,
)

log = logging.getLogger(__name__)

# Most specific first. Anything not here is our own fault: 500 ``internal``.
ERROR_TABLE: tuple[tuple[type[BaseException], int, str], ...] = (
    (Unauthenticated, 401, "unauthorized"),
    (NotPermitted, 403, "forbidden"),
    (MessageTooLarge, 413, "too_large"),
    (InvalidInput, 400, "bad_request"),
    (NotSessionOwner, 403, "forbidden"),
    (SessionNotFound, 404, "not_found"),
    (Conflict, 409, "conflict"),
    # The client left before we could answer: nobody to tell, and not our fault.
    (ConnectionGone, 410, "gone"),
    (WriteNotDurable, 503, "unavailable"),
    (Unavailable, 503, "unavailable"),
    (ModelFailed, 500, "internal"),
)
INTERNAL = (500, "internal")
PUBLIC_MESSAGES = {
    "not_found": "no such session",
    "forbidden": "this session is not attached to this connection",
    "unavailable": "the service is busy; please try again in a moment",
    "internal": "something went wrong on our side; please try again",
    "gone": "the connection is closed",
    "unauthorized": "not authenticated",
}


def classify(error: BaseException) -> tuple[int, str]:
    for kind, status, code in ERROR_TABLE:
        if isinstance(error, kind):
            return status, code
    return INTERNAL


def ok() -> dict[str, Any]:
    return {"statusCode": 200}


def status(code: int) -> dict[str, Any]:
    return {"statusCode": code}


def refuse(
    error: BaseException, notifier: Notifier | None, connection_id: str, telemetry: Telemetry | None = None
) -> dict[str, Any]:
    """Tell the client what went wrong in an error frame, and API Gateway in the status code."""
    code, kind = classify(error)
    if telemetry is not None:
        telemetry.count(FRAMES_REFUSED, code=kind)
    if code >= 500:
        log.error("request failed: %s", kind, exc_info=error)
    else:
        log.info("frame refused: %s (%s)", kind, type(error).__name__)
    text = str(error) if kind in ("bad_request", "too_large", "conflict") else PUBLIC_MESSAGES[kind]
    if notifier is not None:
        try:
            notifier.push(connection_id, {"type": "error", "code": kind, "message": text})
        except ConnectionGone:
            pass
        except Exception:  # the status code still tells API Gateway; the push failure is logged
            log.warning("could not push the error frame", exc_info=True)
    return status(code)
