"""The retry queue's message format: a write that failed on the message path, for the turn writer to
replay. Self-describing and versioned, so that a message outliving a deploy is still read right, or
refused clearly (and left to the dead-letter queue) rather than misread.

    {"format": "manga-assist.pending-write", "version": 1, "kind": "complete_exchange",
     "session_id": "...", "message_id": "...", "expires_at": "2026-11-28T09:00:00.123456+00:00",
     "reply": {"turn_id": "...", "role": "assistant", "content": "...", "token_count": 42,
               "created_at": "...", "message_id": "...", "response_id": "...", "agent_id": null},
     "charge": {"customer": "...", "day": "2026-11-28", "tokens": 512}}

``charge`` (the reply's tokens for its customer's day) is optional: a message written before limits
existed has none, and reads the same.

Times are ISO 8601 with microseconds and an offset; content is plain text. Plain ``json``: this module
is loaded in memory mode too, where cold start matters and cattrs is not wanted.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from application.ports import PendingWrite
from domain.limits import Charge
from domain.model import Role, Turn

FORMAT = "manga-assist.pending-write"
VERSION = 1
KINDS = ("complete_exchange",)


class UnreadableRetryMessage(ValueError):
    """Not a pending write this code can read: another format, a newer version, or a broken body."""


def encode_pending_write(write: PendingWrite) -> str:
    reply = write.reply
    charge = write.charge
    return json.dumps(
        {
            "format": FORMAT,
            "version": VERSION,
            "kind": write.kind,
            "session_id": write.session_id,
            "message_id": write.message_id,
            "expires_at": write.expires_at.isoformat(),
            "reply": {
                "turn_id": reply.turn_id,
                "role": str(reply.role),
                "content": reply.content,
                "token_count": reply.token_count,
                "created_at": reply.created_at.isoformat(),
                "message_id": reply.message_id,
                "response_id": reply.response_id,
                "agent_id": reply.agent_id,
            },
            **(
                {"charge": {"customer": charge.customer, "day": charge.day, "tokens": charge.tokens}}
                if charge is not None
                else {}
            ),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def decode_pending_write(body: str) -> PendingWrite:
    try:
        data = json.loads(body)
    except (TypeError, ValueError) as error:
        raise UnreadableRetryMessage(f"not JSON: {error}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UnreadableRetryMessage(f"not a {FORMAT} message")
    if data.get("version") != VERSION:
        raise UnreadableRetryMessage(f"{FORMAT} version {data.get('version')!r}; this code reads {VERSION}")
    kind = _field(data, "kind", str)
    if kind not in KINDS:
        raise UnreadableRetryMessage(f"unknown kind {kind!r}")
    reply = _field(data, "reply", dict)
    try:
        turn = Turn(
            turn_id=_field(reply, "turn_id", str),
            role=Role(_field(reply, "role", str)),
            content=_field(reply, "content", str),
            token_count=_field(reply, "token_count", int),
            created_at=_time(reply, "created_at"),
            message_id=_optional(reply, "message_id"),
            response_id=_optional(reply, "response_id"),
            agent_id=_optional(reply, "agent_id"),
        )
    except ValueError as error:
        raise UnreadableRetryMessage(f"bad reply: {error}") from None
    return PendingWrite(
        kind=kind,
        session_id=_field(data, "session_id", str),
        message_id=_field(data, "message_id", str),
        reply=turn,
        expires_at=_time(data, "expires_at"),
        charge=_charge(data),
    )


def _charge(data: dict[str, Any]) -> Charge | None:
    if data.get("charge") is None:
        return None
    charge = _field(data, "charge", dict)
    day = _field(charge, "day", str)
    try:
        date.fromisoformat(day)
        return Charge(_field(charge, "customer", str), day, _field(charge, "tokens", int))
    except ValueError as error:
        raise UnreadableRetryMessage(f"bad charge: {error}") from None


def _field(data: dict[str, Any], name: str, kind: type) -> Any:
    found = data.get(name)
    if not isinstance(found, kind) or (kind is int and isinstance(found, bool)):
        raise UnreadableRetryMessage(f"{name} must be a {kind.__name__}")
    return found


def _optional(data: dict[str, Any], name: str) -> str | None:
    return None if data.get(name) is None else _field(data, name, str)


def _time(data: dict[str, Any], name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(_field(data, name, str))
    except ValueError:
        raise UnreadableRetryMessage(f"{name} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise UnreadableRetryMessage(f"{name} has no UTC offset")
    return moment
