"""``$default``: every client frame (docs/PROTOCOL.md §3). Replies leave through the Management API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from attrs import evolve

from application.authentication import GUEST_PREFIX
from application.frames import history_frames, session_frame
from application.handoff import StartHandoffCommand
from application.ports import Notifier
from application.send_message import SendMessageCommand
from application.sessions import DescribeSessionCommand, HistoryCommand
from domain.model import Session
from entrypoints.agent_routes import AGENT_ROUTES
from entrypoints.container import Container, get_container, message_bus
from entrypoints.deadlines import reply_deadline
from entrypoints.errors import BadRequest
from entrypoints.events import ClientFrame, WebSocketRequest, parse_frame
from entrypoints.lambda_logging import add_keys, bind, event_ids, logger, observed
from entrypoints.responses import ok, refuse

Route = Callable[[Container, WebSocketRequest, ClientFrame, Notifier], dict[str, Any]]


@observed
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    bind(context, **event_ids(event))
    container = get_container()
    answer_by = reply_deadline(context, event, container.adapters.clock())
    request = evolve(WebSocketRequest.from_event(event), answer_by=answer_by)
    notifier: Notifier = container.adapters.notifier(
        endpoint=request.callback_url(container.config.websocket_callback_url())
    )
    try:
        frame = parse_frame(request.body, request.is_base64)
        return ROUTES[frame.action](container, request, frame, notifier)
    except Exception as error:
        return refuse(error, notifier, request.connection_id, container.adapters.telemetry())


def describe(
    container: Container, request: WebSocketRequest, frame: ClientFrame, notifier: Notifier
) -> dict[str, Any]:
    session = container.use_cases.describe_session()(
        DescribeSessionCommand(request.connection_id, frame.optional_str("session_id"))
    )
    notifier.push(request.connection_id, session_frame(session, _resume_token(container, session)))
    return ok()


def _resume_token(container: Container, session: Session) -> str | None:
    customer_id = session.customer_id
    if container.config.auth_mode() != "guest" or not customer_id or not customer_id.startswith(GUEST_PREFIX):
        return None
    return str(container.adapters.guest_passes().issue(customer_id))


def history(
    container: Container, request: WebSocketRequest, frame: ClientFrame, notifier: Notifier
) -> dict[str, Any]:
    settings = container.use_cases.settings()
    turns = container.use_cases.get_history()(
        HistoryCommand(
            request.connection_id,
            frame.optional_int("limit", settings.history_default),
            frame.optional_str("session_id"),
        )
    )
    for part in history_frames(list(turns)):
        notifier.push(request.connection_id, part)
    return ok()


def send_message(
    container: Container, request: WebSocketRequest, frame: ClientFrame, notifier: Notifier
) -> dict[str, Any]:
    message_id = frame.optional_str("message_id") or request.request_message_id
    if not message_id:
        raise BadRequest("message_id is required when API Gateway gives no messageId")
    add_keys(message_id=message_id, session_id=frame.optional_str("session_id"))
    use_case = container.use_cases.send_message(notifier=notifier, events=message_bus(container, notifier))
    outcome = use_case(
        SendMessageCommand(
            connection_id=request.connection_id,
            message=frame.required_str("message"),
            message_id=message_id,
            session_id=frame.optional_str("session_id"),
            answer_by=request.answer_by,
            customer_id=request.authorized_customer_id(),
        )
    )
    logger.info(
        "message handled",
        extra={
            "session_id": outcome.session_id,
            "message_id": outcome.message_id,
            "replayed": outcome.replayed,
            "answered": outcome.answered,
            "queued": outcome.queued,
            "forwarded": outcome.forwarded,
            "client_gone": outcome.client_gone,
            "cut_short": outcome.cut_short,
            "chunks": outcome.chunks,
        },
    )
    return ok()


def handoff(
    container: Container, request: WebSocketRequest, frame: ClientFrame, notifier: Notifier
) -> dict[str, Any]:
    container.use_cases.start_handoff(notifier=notifier)(
        StartHandoffCommand(
            reason=frame.optional_str("reason", max_chars=500) or "",
            session_id=frame.optional_str("session_id"),
            connection_id=request.connection_id,
        )
    )
    return ok()


ROUTES: dict[str, Route] = {
    "session": describe,
    "history": history,
    "sendMessage": send_message,
    "handoff": handoff,
    **AGENT_ROUTES,
}
