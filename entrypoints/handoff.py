"""Direct invoke (integrations): hand a session to a human agent, answer as the agent, transfer it,
release it back to the bot; and, on a schedule, tell customers nobody has claimed yet.

    {"session_id": "...", "reason": "refund dispute"}                     # start: into the queue
    {"session_id": "...", "agent_id": "agent-7", "reason": "..."}         # start: straight to agent-7
    {"action": "claim", "session_id": "...", "agent_id": "agent-7"}
    {"action": "reply", "session_id": "...", "agent_id": "agent-7", "message": "...", "reply_id": "..."}
    {"action": "transfer", "session_id": "...", "agent_id": "agent-7", "to_agent_id": "agent-8"}
    {"action": "release", "session_id": "...", "agent_id": "agent-7"}     # back to the bot
    {"action": "sweep"}                                                   # the schedule's

A ``reply`` is stored and pushed once per ``reply_id``; without one, the invocation's own request id
stands in, which Lambda keeps across its retries of an asynchronous invocation. ``agent_connection_id``
(optional, on start) names the agent's console, which then receives the customer's messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from application.agents import AgentMoveCommand, AgentReplyCommand, TransferCommand
from application.handoff import StartHandoffCommand
from entrypoints.container import Container, get_container
from entrypoints.errors import BadRequest
from entrypoints.events import text_or_refuse
from entrypoints.lambda_logging import bind, logger, observed
from entrypoints.responses import refusal

ACTIONS = ("start", "claim", "reply", "transfer", "release", "sweep")


def _text(event: Mapping[str, Any], name: str, required: bool = True, max_chars: int = 128) -> str | None:
    value = event.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_chars:
        raise BadRequest(f"{name} must be a non-empty string of at most {max_chars} characters")
    return text_or_refuse(value, name)


@observed
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    bind(context, session_id=event.get("session_id") if isinstance(event, dict) else None)
    try:
        if not isinstance(event, dict):
            raise BadRequest("the event must be a JSON object")
        action = event.get("action", "start")
        if action not in ACTIONS:
            raise BadRequest(f"action must be one of {', '.join(ACTIONS)}")
        result = _run(get_container(), action, event, getattr(context, "aws_request_id", None))
    except Exception as error:
        refused = refusal(error, "handoff")
        return {"statusCode": refused.status, "error": {"code": refused.code, "message": refused.message}}
    logger.info("handoff action done", extra={"action": action, **result})
    return {"statusCode": 200, **result}


def _run(
    container: Container, action: str, event: Mapping[str, Any], request_id: str | None
) -> dict[str, Any]:
    callback = container.config.websocket_callback_url()
    if not callback:
        raise RuntimeError("WEBSOCKET_CALLBACK_URL must be set for the handoff function")
    notifier = container.adapters.notifier(endpoint=callback)
    use_cases = container.use_cases
    if action == "sweep":
        return {"told": use_cases.notify_unclaimed(notifier=notifier)()}
    session_id = _text(event, "session_id")
    assert session_id is not None
    if action == "start":
        session = use_cases.start_handoff(notifier=notifier)(
            StartHandoffCommand(
                reason=_text(event, "reason", required=False, max_chars=500) or "",
                session_id=session_id,
                agent_id=_text(event, "agent_id", required=False),
                agent_connection_id=_text(event, "agent_connection_id", required=False),
            )
        )
        return {"session_id": session_id, "status": str(session.status), "agent_id": session.agent_id}
    agent_id = _text(event, "agent_id")
    assert agent_id is not None
    move = AgentMoveCommand(None, agent_id, session_id)
    if action == "reply":
        message = event.get("message")
        if not isinstance(message, str):
            raise BadRequest("message must be a string")
        text_or_refuse(message, "message")
        reply_id = _text(event, "reply_id", required=False) or request_id
        if not reply_id:
            raise BadRequest("reply_id is required")
        outcome = use_cases.agent_reply(notifier=notifier)(
            AgentReplyCommand(None, agent_id, session_id, message, reply_id)
        )
        return {
            "session_id": session_id,
            "status": "handoff",
            "response_id": outcome.turn.response_id,
            "repeat": not outcome.stored,
        }
    if action == "claim":
        session = use_cases.claim_handoff(notifier=notifier)(move)
    elif action == "transfer":
        to_agent = _text(event, "to_agent_id", required=False)
        session = use_cases.transfer_handoff(notifier=notifier)(
            TransferCommand(None, agent_id, session_id, to_agent)
        )
    else:
        session = use_cases.release_handoff(notifier=notifier)(move)
    return {"session_id": session_id, "status": str(session.status), "agent_id": session.agent_id}
