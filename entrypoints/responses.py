"""The one table from errors to status codes and error frames."""

from __future__ import annotations

import logging
from typing import Any

from attrs import frozen

from application.authentication import NotPermitted, Unauthenticated
from application.errors import ConnectionGone, ModelFailed, Unavailable, WriteNotDurable
from application.frames import error_frame
from application.ports import Notifier, Telemetry
from application.telemetry import FRAMES_REFUSED
from domain.errors import (
    Conflict,
    InvalidInput,
    LimitReached,
    MessageTooLarge,
    NotAnAgent,
    NotHandoffHolder,
    NotSessionOwner,
    SessionNotFound,
)
from entrypoints.errors import BadRequest, RequestTooLarge

log = logging.getLogger(__name__)

# Most specific first. Anything not here is our own fault: 500 ``internal``.
ERROR_TABLE: tuple[tuple[type[BaseException], int, str], ...] = (
    (Unauthenticated, 401, "unauthorized"),
    (NotPermitted, 403, "forbidden"),
    (MessageTooLarge, 413, "too_large"),
    (RequestTooLarge, 413, "too_large"),
    (InvalidInput, 400, "bad_request"),
    (BadRequest, 400, "bad_request"),
    (NotSessionOwner, 403, "forbidden"),
    (SessionNotFound, 404, "not_found"),
    (Conflict, 409, "conflict"),
    (LimitReached, 429, "rate_limited"),
    # The client left before we could answer: nobody to tell, and not our fault.
    (ConnectionGone, 410, "gone"),
    (WriteNotDurable, 503, "unavailable"),
    (Unavailable, 503, "unavailable"),
    (ModelFailed, 500, "internal"),
)
INTERNAL = (500, "internal")
OWN_WORDS = ("bad_request", "too_large", "conflict", "rate_limited")  # the error's message is for the client
# Refusals whose own words reveal nothing the caller does not know already.
SAID_AS_IS = (NotAnAgent, NotHandoffHolder)
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


@frozen
class Refusal:
    status: int
    code: str
    message: str  # what the caller may read: the error's own words only where they are about its input


def refusal(error: BaseException, what: str, telemetry: Telemetry | None = None) -> Refusal:
    """The one path every entrypoint's failure takes ($connect, $disconnect, $default, handoff): its
    status and code from ``ERROR_TABLE``, its public message, one log line (with the traceback when
    it is our fault) and, given ``telemetry``, one count."""
    status, code = classify(error)
    if telemetry is not None:
        telemetry.count(FRAMES_REFUSED, code=code)
    if status >= 500:
        log.error("%s failed: %s", what, code, exc_info=error)
    else:
        log.info("%s refused: %s (%s)", what, code, type(error).__name__)
    shown = code in OWN_WORDS or isinstance(error, SAID_AS_IS)
    message = str(error) if shown else PUBLIC_MESSAGES[code]
    return Refusal(status, code, message)


def ok() -> dict[str, Any]:
    return {"statusCode": 200}


def status(code: int) -> dict[str, Any]:
    return {"statusCode": code}


def refuse(
    error: BaseException, notifier: Notifier | None, connection_id: str, telemetry: Telemetry | None = None
) -> dict[str, Any]:
    """A refused frame: the client reads why in an error frame, API Gateway in the status code."""
    refused = refusal(error, "frame", telemetry)
    frame = error_frame(refused.code, refused.message)
    if isinstance(error, LimitReached):  # when to try again, and which limit (for a friendly word)
        frame.update(retry_after=error.retry_after, limit=error.limit)
    if notifier is not None:
        try:
            notifier.push(connection_id, frame)
        except ConnectionGone:
            pass
        except Exception:  # the status code still tells API Gateway; the push failure is logged
            log.warning("could not push the error frame", exc_info=True)
    return status(refused.status)
