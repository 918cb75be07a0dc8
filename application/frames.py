"""Server -> client frames of the WebSocket protocol (docs/PROTOCOL.md §3)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from application.frame_size import MAX_FRAME_BYTES, frame_bytes, split_text
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


def message_frames(reply: Turn, max_bytes: int = MAX_FRAME_BYTES) -> list[dict[str, Any]]:
    """The ``message`` frames of a reply, each at most ``max_bytes`` encoded. A reply that fits is one
    frame, exactly ``message_frame``. A longer one is ``parts`` frames, each with ``part`` (from 0) and
    ``parts``: joined in part order, their ``content`` is the whole reply. A frame without ``parts``
    is whole."""
    whole = message_frame(reply)
    if frame_bytes(whole) <= max_bytes:
        return [whole]
    room = max_bytes - frame_bytes({**whole, "content": "", "part": _MANY, "parts": _MANY})
    pieces = split_text(reply.content, room)
    return [{**whole, "content": piece, "part": n, "parts": len(pieces)} for n, piece in enumerate(pieces)]


def history_frames(turns: list[Turn], max_bytes: int = MAX_FRAME_BYTES) -> list[dict[str, Any]]:
    """The turns, oldest first, in ``history`` frames of at most ``max_bytes`` each. When they fit in
    one, it is ``{"type": "history", "turns": [...]}``. Otherwise each frame also carries ``part``
    (from 0) and ``parts``: the turns of all parts, in part order, are the history. A turn too long
    for one frame is cut into consecutive entries; every entry but its last has ``"continued": true``
    and is followed by the rest of its ``content``."""
    entries = [
        {"role": str(turn.role), "content": turn.content, "created_at": iso(turn.created_at)}
        for turn in turns
    ]
    whole = {"type": "history", "turns": entries}
    if frame_bytes(whole) <= max_bytes:
        return [whole]
    room = max_bytes - frame_bytes({"type": "history", "turns": [], "part": _MANY, "parts": _MANY})
    parts: list[list[dict[str, Any]]] = [[]]
    used = 0
    for entry in entries:
        for piece in _fitted(entry, room):
            cost = frame_bytes(piece) + 1  # and the comma between entries
            if parts[-1] and used + cost > room:
                parts.append([])
                used = 0
            parts[-1].append(piece)
            used += cost
    return [
        {"type": "history", "turns": part, "part": n, "parts": len(parts)} for n, part in enumerate(parts)
    ]


_MANY = 10**6  # room for the widest part numbers


def _fitted(entry: dict[str, Any], room: int) -> list[dict[str, Any]]:
    """The entry, or its content cut so that each piece fits a frame of its own."""
    if frame_bytes(entry) + 1 <= room:
        return [entry]
    overhead = frame_bytes({**entry, "content": "", "continued": True}) + 1
    pieces = split_text(entry["content"], room - overhead)
    cut = [{**entry, "content": piece, "continued": True} for piece in pieces]
    del cut[-1]["continued"]
    return cut


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
