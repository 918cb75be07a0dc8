"""Server -> client frames of the WebSocket protocol (docs/PROTOCOL.md §3)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from application.frame_size import MAX_FRAME_BYTES, frame_bytes, split_text
from domain.model import Role, Session, Summary, Turn

if TYPE_CHECKING:
    from application.ports import QueueEntry


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


def handoff_frame(
    session: Session, reason: str | None = None, transition: str | None = None
) -> dict[str, Any]:
    """To the customer: who holds the session now, and (``transition``) what just changed: waiting,
    claimed (an agent joined), transferred, released (back to the bot), unclaimed (nobody yet)."""
    frame = {
        "type": "handoff",
        "status": str(session.status),
        "session_id": session.session_id,
        "agent_id": session.agent_id,
        "reason": reason if reason is not None else session.handoff_reason,
    }
    if transition is not None:
        frame["transition"] = transition
    return frame


def forwarded_frame(message_id: str | None) -> dict[str, Any]:
    """To the customer during a handoff: the message is stored and on its way to a human."""
    return {"type": "forwarded", "reply_to": message_id}


def queue_frame(
    entries: Sequence[QueueEntry], now: datetime, max_bytes: int = MAX_FRAME_BYTES
) -> dict[str, Any]:
    """To an agent: the open handoffs, oldest first, as many as one frame holds (``truncated`` says
    when the newest were left out)."""
    listed = [
        {
            "session_id": e.session_id,
            "customer_id": e.customer_id,
            "reason": e.reason,
            "waiting_since": iso(e.waiting_since),
            "waiting_seconds": max(0, int((now - e.waiting_since).total_seconds())),
            "status": "waiting" if e.agent_id is None else "claimed",
            "agent_id": e.agent_id,
        }
        for e in entries
    ]
    frame: dict[str, Any] = {"type": "queue", "handoffs": [], "truncated": True}
    kept = _within(frame, listed, max_bytes)
    return {"type": "queue", "handoffs": kept, **({"truncated": True} if len(kept) < len(listed) else {})}


def _within(frame: dict[str, Any], items: list[dict[str, Any]], max_bytes: int) -> list[dict[str, Any]]:
    """The first of ``items`` that fit in ``frame`` (whose list of them is still empty) with the
    frame under ``max_bytes``."""
    room = max_bytes - frame_bytes(frame)
    kept: list[dict[str, Any]] = []
    for item in items:
        cost = frame_bytes(item) + 1  # and its comma
        if cost > room:
            break
        kept.append(item)
        room -= cost
    return kept


def queue_changed_frame(session: Session) -> dict[str, Any]:
    """To every connected agent: the queue moved. The entry that moved comes along, so that a
    console can show it before its next ``agent.queue`` (whose index may lag a moment)."""
    return {
        "type": "queue_changed",
        "session_id": session.session_id,
        "status": "waiting" if session.waiting_for_agent else "claimed" if session.agent_id else "closed",
        "agent_id": session.agent_id,
    }


def conversation_entry(turn: Turn) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "role": str(turn.role),
        "content": turn.content,
        "created_at": iso(turn.created_at),
    }
    if turn.agent_id:
        entry["agent_id"] = turn.agent_id
    if turn.role is Role.USER and turn.message_id:
        entry["message_id"] = turn.message_id
    return entry


def claimed_frame(
    session: Session,
    summary: Summary | None,
    turns: Sequence[Turn],
    transferred_from: str | None = None,
    max_bytes: int = MAX_FRAME_BYTES,
) -> dict[str, Any]:
    """To the agent who now holds the session: the latest summary and the last turns, oldest first,
    as many of the newest as one frame holds (``truncated`` says when older ones were left out)."""
    frame: dict[str, Any] = {
        "type": "claimed",
        "session_id": session.session_id,
        "customer_id": session.customer_id,
        "reason": session.handoff_reason,
        "summary": summary.text if summary else None,
        "turns": [],
        "truncated": True,
    }
    if transferred_from is not None:
        frame["transferred_from"] = transferred_from
    newest_first = [conversation_entry(t) for t in reversed(turns)]
    kept = _within(frame, newest_first, max_bytes)
    if len(kept) == len(newest_first):
        del frame["truncated"]
    frame["turns"] = kept[::-1]
    return frame


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
