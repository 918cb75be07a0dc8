"""``$disconnect``: mark the session disconnected (never delete it: it can be resumed)."""

from __future__ import annotations

from typing import Any

from application.sessions import DisconnectCommand
from entrypoints.container import get_container
from entrypoints.events import WebSocketRequest
from entrypoints.lambda_logging import bind, event_ids, logger, observed
from entrypoints.responses import ok, refusal, status


@observed
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    bind(context, **event_ids(event))
    try:
        request = WebSocketRequest.from_event(event)
        if request.agent_id() is not None:
            get_container().use_cases.disconnect_console()(request.connection_id)
            logger.info("agent console disconnected")
            return ok()
        session = get_container().use_cases.disconnect()(DisconnectCommand(request.connection_id))
    except Exception as error:
        return status(refusal(error, "disconnect").status)
    if session is None:
        # The index may lag a connect by a moment, or the session already moved to a new connection.
        logger.info("disconnect: no session attached to this connection")
    else:
        logger.info("disconnected", extra={"session_id": session.session_id})
    return ok()
