"""Reading API Gateway WebSocket events and client frames (docs/PROTOCOL.md §2-3) into plain values."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from attrs import frozen

from application.authentication import AGENT, CUSTOMER, Unauthenticated
from application.deadline import Deadline
from entrypoints.errors import BadRequest, RequestTooLarge

ACTIONS = (
    "session",
    "sendMessage",
    "history",
    "handoff",
    "agent.queue",
    "agent.claim",
    "agent.reply",
    "agent.transfer",
    "agent.release",
)
# API Gateway's own frame limit is 128 KB; anything larger than the largest legal frame is refused
# before JSON parsing spends time on it.
MAX_BODY_CHARS = 256 * 1024
MAX_AUTHORIZED_ID_CHARS = 256
ID_PATTERN = re.compile(r"^[A-Za-z0-9._:@=+/\-]{1,128}\Z")  # \Z: "$" would let a trailing newline in


@frozen
class WebSocketRequest:
    connection_id: str
    request_message_id: str | None
    domain_name: str | None
    stage: str | None
    body: Any
    is_base64: bool
    query: Mapping[str, str]
    authorizer: Mapping[str, Any]
    answer_by: Deadline | None = None  # entrypoints.deadlines: when a reply must stop streaming

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> WebSocketRequest:
        context = event.get("requestContext") or {}
        connection_id = context.get("connectionId")
        if not isinstance(connection_id, str) or not connection_id:
            raise ValueError("event has no requestContext.connectionId")
        return cls(
            connection_id=connection_id,
            request_message_id=context.get("messageId"),
            domain_name=context.get("domainName"),
            stage=context.get("stage"),
            body=event.get("body"),
            is_base64=bool(event.get("isBase64Encoded")),
            query=event.get("queryStringParameters") or {},
            authorizer=context.get("authorizer") or {},
        )

    def callback_url(self, configured: str | None) -> str:
        if configured:
            return configured
        if not self.domain_name or not self.stage:
            raise ValueError("event has no domainName/stage and WEBSOCKET_CALLBACK_URL is not set")
        return f"https://{self.domain_name}/{self.stage}"

    def customer_id(self, trust_query: bool = False) -> str | None:
        """The authorizer's word when there is one. Only with ``trust_query`` (AUTH_MODE=none, local
        development and tests) may the query string name the customer; otherwise a connection that
        no authorizer vouched for is refused (``Unauthenticated``), so that a stage deployed without
        its authorizer fails closed."""
        authorized = self.authorized_customer_id()
        if authorized is not None:
            return authorized
        if not trust_query:
            raise Unauthenticated("no authorizer vouched for this connection")
        value = self.query.get("customer_id")
        return _checked_id(value, "customer_id") if value else None

    def authorized_customer_id(self) -> str | None:
        """The customer an authorizer vouched for (API Gateway repeats its context on every frame of
        the connection); ``None`` when none did. Never the query string: the client does not choose."""
        for key in ("customer_id", "principalId"):
            value = self.authorizer.get(key)
            if isinstance(value, str) and value:
                return _trusted_id(value)
        return None

    def role(self) -> str:
        """``agent`` only when the authorizer says so (docs/PROTOCOL.md §10); anyone else is a customer."""
        return AGENT if self.authorizer.get("role") == AGENT else CUSTOMER

    def agent_id(self) -> str | None:
        """The agent's id when the authorizer says this connection is an agent's; never the client's
        own word. (The local gateway speaks for its authorizer the same way.)"""
        if self.role() != AGENT:
            return None
        for key in ("customer_id", "principalId"):
            value = self.authorizer.get(key)
            if isinstance(value, str) and value:
                return _trusted_id(value)
        return None

    def requested_session_id(self) -> str | None:
        value = self.query.get("session_id")
        # A malformed id cannot name a session: it is ignored like any id that cannot be resumed.
        return value if isinstance(value, str) and ID_PATTERN.match(value) else None


def _trusted_id(value: str) -> str:
    """An identity provider's subject ("auth0|5f7c…", an e-mail address) is whatever it is: the
    authorizer vouches for it. Only what no store can hold is refused."""
    if len(value) > MAX_AUTHORIZED_ID_CHARS or not value.isprintable():
        raise BadRequest(
            f"the authorizer's customer id must be printable and at most {MAX_AUTHORIZED_ID_CHARS} characters"
        )
    return text_or_refuse(value, "customer_id")


def _checked_id(value: str, name: str) -> str:
    if not ID_PATTERN.match(value):
        raise BadRequest(f"{name} must be 1 to 128 letters, digits or . _ : @ = + / -")
    return value


@frozen
class ClientFrame:
    action: str
    fields: Mapping[str, Any]

    def optional_str(self, name: str, max_chars: int = 128) -> str | None:
        value = self.fields.get(name)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise BadRequest(f"{name} must be a non-empty string")
        if len(value) > max_chars:
            raise BadRequest(f"{name} must be at most {max_chars} characters")
        return text_or_refuse(value, name)

    def required_str(self, name: str) -> str:
        value = self.fields.get(name)
        if not isinstance(value, str):
            raise BadRequest(f"{name} must be a string")
        return text_or_refuse(value, name)

    def optional_int(self, name: str, default: int) -> int:
        value = self.fields.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadRequest(f"{name} must be a whole number")
        return value


def text_or_refuse(value: str, name: str) -> str:
    """JSON may carry lone surrogates (``"\\ud800"``), which are no text: UTF-8 cannot store them."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(f"{name} is not valid Unicode text") from None
    return value


def parse_frame(body: Any, is_base64: bool) -> ClientFrame:
    if is_base64 or not isinstance(body, str):
        raise BadRequest("frames must be JSON text")
    if len(body) > MAX_BODY_CHARS:
        raise RequestTooLarge("frame is too large")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # nesting deeper than the parser's stack: not a frame of ours
        raise BadRequest("frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("frame must be a JSON object")
    action = data.get("action")
    if action is None and "message" in data:
        action = "sendMessage"  # the original design's frames: {"session_id", "message"}
    if not isinstance(action, str):
        raise BadRequest("frame needs an action: " + ", ".join(ACTIONS))
    if action not in ACTIONS:
        raise BadRequest(f"unknown action {action[:40]!r}; expected one of " + ", ".join(ACTIONS))
    return ClientFrame(action, data)
