"""The agents' frames on ``$default`` (``agent.queue``, ``agent.claim``, ``agent.reply``,
``agent.transfer``, ``agent.release``). Who is an agent is the authorizer's word alone
(``requestContext.authorizer.role``); a customer's connection sending one of these gets 403."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from application.agents import AgentMoveCommand, AgentReplyCommand, ConsoleCommand, TransferCommand
from application.ports import Notifier
from domain.errors import NotAnAgent
from entrypoints.container import Container
from entrypoints.errors import BadRequest
from entrypoints.events import ClientFrame, WebSocketRequest
from entrypoints.lambda_logging import add_keys
from entrypoints.responses import ok

Route = Callable[[Container, WebSocketRequest, ClientFrame, Notifier], dict[str, Any]]


def agent_of(request: WebSocketRequest) -> str:
    agent_id = request.agent_id()
    if agent_id is None:
        raise NotAnAgent("agent actions are for agents' connections only")
    return agent_id


def _move(request: WebSocketRequest, frame: ClientFrame) -> AgentMoveCommand:
    agent_id = agent_of(request)
    session_id = frame.optional_str("session_id")
    if session_id is None:
        raise BadRequest("session_id is required")
    add_keys(session_id=session_id, agent_id=agent_id)
    return AgentMoveCommand(request.connection_id, agent_id, session_id)


def queue(
    container: Container, request: WebSocketRequest, _frame: ClientFrame, notifier: Notifier
) -> dict[str, Any]:
    agent_id = agent_of(request)
    container.use_cases.show_queue(notifier=notifier)(ConsoleCommand(request.connection_id, agent_id))
    return ok()


def claim(
    container: Container, request: WebSocketRequest, frame: ClientFrame, notifier: Notifier
) -> dict[str, Any]:
    container.use_cases.claim_handoff(notifier=notifier)(_move(request, frame))
    return ok()


def reply(
    container: Container, request: WebSocketRequest, frame: ClientFrame, notifier: Notifier
) -> dict[str, Any]:
    move = _move(request, frame)
    # Without a reply_id, API Gateway's own id of this frame: a frame it delivers twice counts once.
    reply_id = frame.optional_str("reply_id") or request.request_message_id
    if not reply_id:
        raise BadRequest("reply_id is required")
    container.use_cases.agent_reply(notifier=notifier)(
        AgentReplyCommand(
            move.connection_id, move.agent_id, move.session_id, frame.required_str("message"), reply_id
        )
    )
    return ok()


def transfer(
    container: Container, request: WebSocketRequest, frame: ClientFrame, notifier: Notifier
) -> dict[str, Any]:
    move = _move(request, frame)
    to_agent = frame.optional_str("to_agent_id")
    container.use_cases.transfer_handoff(notifier=notifier)(
        TransferCommand(move.connection_id, move.agent_id, move.session_id, to_agent)
    )
    return ok()


def release(
    container: Container, request: WebSocketRequest, frame: ClientFrame, notifier: Notifier
) -> dict[str, Any]:
    container.use_cases.release_handoff(notifier=notifier)(_move(request, frame))
    return ok()


AGENT_ROUTES: dict[str, Route] = {
    "agent.queue": queue,
    "agent.claim": claim,
    "agent.reply": reply,
    "agent.transfer": transfer,
    "agent.release": release,
}
