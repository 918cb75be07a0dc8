"""A session's story for an operator ("the bot never answered me"): its state, every turn, summary
and handoff in time order, and the messages still waiting for a reply. Sizes and counts, plus the
words only when asked for (``with_content``), since customers' words are private."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from attrs import frozen

from application.frames import iso
from application.ports import Clock, ConversationReads, SessionStore
from domain.errors import SessionNotFound
from domain.model import Role


@frozen
class TimelineEntry:
    at: datetime
    kind: str  # opened | turn | summary | handoff | unanswered | state
    detail: dict[str, Any]


@frozen
class Timeline:
    session: dict[str, Any]
    entries: list[TimelineEntry]
    unanswered: list[str]  # message ids stored without a reply

    def as_dict(self) -> dict[str, Any]:
        return {
            "session": self.session,
            "unanswered_message_ids": self.unanswered,
            "timeline": [{"at": iso(e.at), "kind": e.kind, **e.detail} for e in self.entries],
        }


class SessionTimeline:
    def __init__(self, sessions: SessionStore, reads: ConversationReads, clock: Clock) -> None:
        self._sessions = sessions
        self._repo = reads
        self._clock = clock

    def __call__(self, session_id: str, with_content: bool = False) -> Timeline:
        session = self._sessions.get(session_id)
        turns = list(self._repo.turns_after(session_id, None, 100_000))
        if session is None and not turns:
            raise SessionNotFound(session_id)
        entries: list[TimelineEntry] = []
        header: dict[str, Any] = {"session_id": session_id, "exists": session is not None}
        if session is not None:
            header.update(
                customer_id=session.customer_id,
                status=str(session.status),
                connection_id=session.connection_id,
                turn_count=session.turn_count,
                turns_stored=len(turns),
                agent_id=session.agent_id,
                created_at=iso(session.created_at),
                updated_at=iso(session.updated_at),
                expires_at=iso(session.expires_at),
                expired=session.is_expired(self._clock.now()),
            )
            entries.append(TimelineEntry(session.created_at, "opened", {"customer_id": session.customer_id}))
        for turn in turns:
            detail: dict[str, Any] = {
                "role": str(turn.role),
                "turn_id": turn.turn_id,
                "chars": len(turn.content),
                "tokens": turn.token_count,
                "message_id": turn.message_id,
            }
            if turn.response_id:
                detail["response_id"] = turn.response_id
            if turn.agent_id:
                detail["agent_id"] = turn.agent_id
            if turn.role is Role.SYSTEM or with_content:
                detail["content"] = turn.content  # system turns are ours, never the customer's words
            entries.append(TimelineEntry(turn.created_at, "turn", detail))
        for summary in self._repo.summaries(session_id):
            entries.append(
                TimelineEntry(
                    summary.created_at,
                    "summary",
                    {"covers_turns": summary.turns_covered, "last_turn_id": summary.last_turn_id},
                )
            )
        for handoff in self._repo.handoffs(session_id):
            entries.append(
                TimelineEntry(
                    handoff.timestamp, "handoff", {"agent_id": handoff.agent_id, "reason": handoff.reason}
                )
            )
        unanswered = []
        by_id = {t.turn_id: t for t in turns}
        for record in self._repo.message_records(session_id):
            if record.reply is None:
                unanswered.append(record.message_id)
                asked = by_id.get(record.user_turn_id)
                entries.append(
                    TimelineEntry(
                        asked.created_at if asked else self._clock.now(),
                        "unanswered",
                        {
                            "message_id": record.message_id,
                            "user_turn_id": record.user_turn_id,
                            "being_answered_until": iso(record.lease_until) if record.lease_until else None,
                        },
                    )
                )
        entries.sort(key=lambda e: (e.at, e.kind != "opened"))
        return Timeline(header, entries, unanswered)
