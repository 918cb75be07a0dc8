"""``$connect``: create a session, or resume the one named by ``session_id``.

API Gateway drops whatever body this returns, and a status other than 2xx refuses the handshake;
the client learns its session with the ``session`` action."""

from __future__ import annotations

from typing import Any

from application.sessions import OpenSessionCommand
from entrypoints.container import get_container
from entrypoints.events import WebSocketRequest
from entrypoints.lambda_logging import bind, event_ids, logger, observed
from entrypoints.responses import classify, ok, status


@observed
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    bind(context, **event_ids(event))
    try:
        request = WebSocketRequest.from_event(event)
        opened = get_container().use_cases.open_session()(
            OpenSessionCommand(
                connection_id=request.connection_id,
                customer_id=request.customer_id(),
                requested_session_id=request.requested_session_id(),
            )
        )
    except Exception as error:
        code, kind = classify(error)
        (logger.error if code >= 500 else logger.info)("connect refused: %s", kind, exc_info=code >= 500)
        return status(code)
    logger.info(
        "connected",
        extra={"session_id": opened.session.session_id, "resumed": opened.resumed},
    )
    return ok()
