"""Server -> client frames of the WebSocket protocol (CONTRACT §2)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from domain.model import Session, Turn


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def session_frame(session: Session, resume_token: str | None = None) -> dict[str, Any]:
    """A guest's frame carries ``resume_token``: its credential to come back to this session."""
    frame = {
        "type": "session",
        "session_id": session.session_id,
        "resumed": session.resumed,
        "status": str(session.status),
    }
    if resume_token is not None:
        frame["resume_token"] = resume_token
    return frame


def chunk_frame(response_id: str, index: int, delta: str) -> dict[str, Any]:
    return {"type": "chunk", "response_id": response_id, "index": index, "delta": delta}


def message_frame(reply: Turn) -> dict[str, Any]:
    return {
        "type": "message",
        "response_id": reply.response_id,
        "reply_to": reply.message_id,
        "content": reply.content,
    }


# API Gateway refuses frames over 128 KB. One character of content costs at most 6 bytes of a frame
# (a control character escaped as \uXXXX; any other is 1 to 4 bytes of UTF-8), so this many always
# fit beside the frame's other fields, whatever the encoding of the text.
MAX_CONTENT_CHARS = 16_000


def message_frames(reply: Turn, max_chars: int = MAX_CONTENT_CHARS) -> list[dict[str, Any]]:
    """The ``message`` frames of a reply. A reply of up to ``max_chars`` characters (every reply at
    the default LLM_MAX_TOKENS) is one frame, exactly ``message_frame``. A longer one is ``parts``
    frames, each with ``part`` (from 0) and ``parts``: joined in part order, their ``content`` is
    the whole reply. A frame without ``parts`` is whole."""
    content = reply.content
    if len(content) <= max_chars:
        return [message_frame(reply)]
    pieces = [content[start : start + max_chars] for start in range(0, len(content), max_chars)]
    return [
        {**message_frame(reply), "content": piece, "part": number, "parts": len(pieces)}
        for number, piece in enumerate(pieces)
    ]


# API Gateway refuses frames over 128 KB; leave room for the envelope.
MAX_HISTORY_BYTES = 120 * 1024


def history_frame(turns: list[Turn], max_bytes: int = MAX_HISTORY_BYTES) -> dict[str, Any]:
    """The turns, oldest first. When they would not fit in one frame, the oldest are left out and
    ``truncated`` says so (the client asks again with a smaller ``limit``)."""
    entries: list[dict[str, Any]] = []
    size = 0
    for turn in reversed(turns):
        entry = {"role": str(turn.role), "content": turn.content, "created_at": iso(turn.created_at)}
        cost = len(json.dumps(entry, ensure_ascii=False).encode("utf-8")) + 1
        if entries and size + cost > max_bytes:
            return {"type": "history", "turns": entries[::-1], "truncated": True}
        entries.append(entry)
        size += cost
    return {"type": "history", "turns": entries[::-1]}


def handoff_frame(session: Session, reason: str | None = None) -> dict[str, Any]:
    """To the customer (and the agent's console): who holds the session now."""
    return {
        "type": "handoff",
        "status": str(session.status),
        "session_id": session.session_id,
        "agent_id": session.agent_id,
        "reason": reason,
    }


def agent_message_frame(turn: Turn) -> dict[str, Any]:
    """A human agent's reply: a ``message`` answering no message id, signed by the agent."""
    return {**message_frame(turn), "agent_id": turn.agent_id}


def customer_message_frame(session_id: str, turn: Turn) -> dict[str, Any]:
    """To the agent's console, during a handoff: what the customer wrote."""
    return {
        "type": "customer_message",
        "session_id": session_id,
        "message_id": turn.message_id,
        "content": turn.content,
        "created_at": iso(turn.created_at),
    }


def error_frame(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message}
