"""Direct invoke (the agent console): hand a session to a human agent, answer as the agent, release
it back to the bot.

    {"session_id": "...", "agent_id": "agent-7", "reason": "refund dispute"}            # start
    {"action": "reply", "session_id": "...", "agent_id": "agent-7", "message": "..."}  # answer
    {"action": "release", "session_id": "...", "agent_id": "agent-7"}                  # back to the bot

``agent_connection_id`` (optional, on start) names the console's WebSocket connection, which then
receives the customer's messages while the session is with the agent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from application.handoff import AgentReplyCommand, ReleaseCommand, StartHandoffCommand
from entrypoints.container import Container, get_container
from entrypoints.errors import BadRequest
from entrypoints.events import text_or_refuse
from entrypoints.lambda_logging import bind, logger, observed
from entrypoints.responses import refusal

ACTIONS = ("start", "reply", "release")


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
        result = _run(get_container(), action, event)
    except Exception as error:
        refused = refusal(error, "handoff")
        return {"statusCode": refused.status, "error": {"code": refused.code, "message": refused.message}}
    logger.info("handoff action done", extra={"action": action, **result})
    return {"statusCode": 200, **result}


def _run(container: Container, action: str, event: Mapping[str, Any]) -> dict[str, Any]:
    callback = container.config.websocket_callback_url()
    if not callback:
        raise RuntimeError("WEBSOCKET_CALLBACK_URL must be set for the handoff function")
    notifier = container.adapters.notifier(endpoint=callback)
    session_id = _text(event, "session_id")
    agent_id = _text(event, "agent_id")
    assert session_id is not None and agent_id is not None
    if action == "reply":
        message = event.get("message")
        if not isinstance(message, str):
            raise BadRequest("message must be a string")
        text_or_refuse(message, "message")
        turn = container.use_cases.agent_reply(notifier=notifier)(
            AgentReplyCommand(session_id, agent_id, message)
        )
        return {"session_id": session_id, "status": "handoff", "response_id": turn.response_id}
    if action == "release":
        session = container.use_cases.release_to_bot(notifier=notifier)(ReleaseCommand(session_id, agent_id))
        return {"session_id": session_id, "status": str(session.status)}
    session = container.use_cases.start_handoff(notifier=notifier)(
        StartHandoffCommand(
            reason=_text(event, "reason", required=False, max_chars=500) or "",
            session_id=session_id,
            agent_id=agent_id,
            agent_connection_id=_text(event, "agent_connection_id", required=False),
        )
    )
    return {"session_id": session_id, "status": str(session.status), "agent_id": session.agent_id}
