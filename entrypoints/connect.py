"""``$connect``: create a session, or resume the one named by ``session_id``.

API Gateway drops whatever body this returns (its headers are kept: the selected subprotocol), and a
status other than 2xx refuses the handshake; the client learns its session with the ``session``
action. Except with AUTH_MODE=none, the customer is whoever ``requestContext.authorizer`` says, and
a connection without it is refused with 401."""

from __future__ import annotations

from typing import Any

from application.agents import ConsoleCommand
from application.sessions import OpenSessionCommand
from entrypoints.container import get_container
from entrypoints.credentials import SUBPROTOCOL_HEADER, selected_subprotocol
from entrypoints.events import WebSocketRequest
from entrypoints.lambda_logging import bind, event_ids, logger, observed
from entrypoints.responses import ok, refusal, status


@observed
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    bind(context, **event_ids(event))
    try:
        request = WebSocketRequest.from_event(event)
        container = get_container()
        agent_id = request.agent_id()
        if agent_id is not None:  # an agent's console: no session of its own, a place in the fan-out
            container.use_cases.connect_console()(ConsoleCommand(request.connection_id, agent_id))
            logger.info("agent console connected", extra={"agent_id": agent_id})
            return accepted(event)
        customer_id = request.customer_id(trust_query=container.config.auth_mode() == "none")
        opened = container.use_cases.open_session()(
            OpenSessionCommand(
                connection_id=request.connection_id,
                customer_id=customer_id,
                requested_session_id=request.requested_session_id(),
            )
        )
    except Exception as error:
        return status(refusal(error, "connect").status)
    logger.info(
        "connected",
        extra={"session_id": opened.session.session_id, "resumed": opened.resumed},
    )
    return accepted(event)


def accepted(event: dict[str, Any]) -> dict[str, Any]:
    """A browser that offered subprotocols drops a handshake that selects none of them."""
    subprotocol = selected_subprotocol(event)
    if subprotocol is None:
        return ok()
    return {**ok(), "headers": {SUBPROTOCOL_HEADER: subprotocol}}
