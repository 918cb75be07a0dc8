"""Server -> client frames of the WebSocket protocol (CONTRACT §2)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from domain.model import Session, Turn


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def session_frame(session: Session) -> dict[str, Any]:
    return {
        "type": "session",
        "session_id": session.session_id,
        "resumed": session.resumed,
        "status": str(session.status),
    }


def chunk_frame(response_id: str, index: int, delta: str) -> dict[str, Any]:
    return {"type": "chunk", "response_id": response_id, "index": index, "delta": delta}


def message_frame(reply: Turn) -> dict[str, Any]:
    return {
        "type": "message",
        "response_id": reply.response_id,
        "reply_to": reply.message_id,
        "content": reply.content,
    }


def history_frame(turns: list[Turn]) -> dict[str, Any]:
    return {
        "type": "history",
        "turns": [
            {"role": str(t.role), "content": t.content, "created_at": iso(t.created_at)} for t in turns
        ],
    }


def error_frame(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message}
