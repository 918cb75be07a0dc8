"""The agents' side of a handoff: consoles come and go, the queue, and the moves an agent makes —
claim, reply, transfer, release. Each move is a guarded transition of the session, written with its
``Handoff`` record and an announcement turn in one transaction (``HandoffMoves``); the customer, the
agents concerned and every connected console are told afterwards."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from datetime import timedelta

from attrs import frozen

from application import telemetry as metric
from application.errors import ConcurrentUpdate, ConnectionGone
from application.frame_size import text_cost
from application.frames import (
    agent_message_frame,
    claimed_frame,
    handoff_frame,
    queue_changed_frame,
    queue_frame,
)
from application.ports import (
    AgentConnection,
    Clock,
    ConversationReads,
    Frame,
    HandoffDesk,
    IdGenerator,
    Notifier,
    SessionStore,
    SummaryStore,
    Telemetry,
    TokenCounter,
)
from application.settings import ConversationSettings
from application.telemetry import NoTelemetry
from domain.errors import InvalidInput, MessageTooLarge, SessionNotFound, UnknownAgent
from domain.model import UNASSIGNED, Handoff, HandoffTransition, Role, Session, Turn

MAX_QUEUE_ENTRIES = 200  # read from the index; a frame carries as many as fit 32 KB (about 100)
CLAIM_TURNS = 20  # the last turns an agent sees on claim, beside the latest summary
# API Gateway closes every WebSocket after two hours: a console's record cannot outlive that much.
CONSOLE_LIFETIME = timedelta(hours=2, minutes=5)
ATTEMPTS = 3
MAX_ID_CHARS = 128


class HandoffMoves:
    """Writes a transition (state, record, announcement: all or nothing) and tells who must know."""

    def __init__(
        self,
        repo: SessionStore,
        reads: ConversationReads,
        summaries: SummaryStore,
        desk: HandoffDesk,
        notifier: Notifier,
        clock: Clock,
        ids: IdGenerator,
        counter: TokenCounter,
        settings: ConversationSettings,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.repo = repo
        self.reads = reads
        self.summaries = summaries
        self.desk = desk
        self.notifier = notifier
        self.clock = clock
        self.ids = ids
        self.counter = counter
        self.settings = settings
        self.telemetry = telemetry or NoTelemetry()

    def live(self, session_id: str) -> Session:
        if not session_id:
            raise InvalidInput("session_id is required")
        session = self.repo.get(session_id)
        if session is None or session.is_expired(self.clock.now()):
            raise SessionNotFound("no such session")
        return session

    def record(
        self,
        current: Session,
        updated: Session,
        transition: HandoffTransition,
        by_agent: str | None,
        text: str,
    ) -> None:
        now = self.clock.now()
        holder = by_agent if transition is HandoffTransition.RELEASED else updated.agent_id
        handoff = Handoff(
            handoff_id=self.ids.turn_id(now),
            session_id=current.session_id,
            agent_id=holder or UNASSIGNED,
            reason=updated.handoff_reason or current.handoff_reason or "",
            timestamp=now,
            transition=transition,
            by_agent_id=by_agent,
        )
        announcement = Turn(self.ids.turn_id(now), Role.SYSTEM, text, self.counter.count(text), now)
        self.repo.record_transition(current, updated, announcement, handoff)

    def announce(self, updated: Session, transition: HandoffTransition) -> None:
        """The customer hears what changed; every console, that the queue moved."""
        self.tell(updated.connection_id, handoff_frame(updated, transition=str(transition)))
        self.tell_agents(queue_changed_frame(updated))

    def tell(self, connection_id: str | None, frame: Frame) -> bool:
        if connection_id is None:
            return False
        with suppress(ConnectionGone):  # stored all the same: the history shows it on resume
            self.notifier.push(connection_id, frame)
            return True
        return False

    def consoles(self, agent_id: str | None = None) -> Sequence[AgentConnection]:
        found = self.desk.agent_connections()
        return [c for c in found if agent_id is None or c.agent_id == agent_id]

    def tell_agents(self, frame: Frame, connection_ids: Sequence[str] | None = None) -> int:
        """Push to consoles (every connected one by default); a console found gone is forgotten."""
        if connection_ids is None:
            connection_ids = [c.connection_id for c in self.consoles()]
        told = 0
        for connection_id in connection_ids:
            try:
                self.notifier.push(connection_id, frame)
                told += 1
            except ConnectionGone:
                self.desk.remove_agent_connection(connection_id)
        return told

    def holder_consoles(self, session: Session) -> list[str]:
        return holder_consoles(self.desk, session)

    def show_conversation(
        self, session: Session, connection_ids: Sequence[str], transferred_from: str | None = None
    ) -> None:
        summary = self.summaries.latest_summary(session.session_id)
        turns = self.reads.history(session.session_id, CLAIM_TURNS)
        self.tell_agents(claimed_frame(session, summary, turns, transferred_from), connection_ids)


def holder_consoles(desk: HandoffDesk, session: Session) -> list[str]:
    """Where the agent holding ``session`` reads: the console that claimed it and any other of theirs."""
    if session.agent_id is None:
        return []
    found = {c.connection_id for c in desk.agent_connections() if c.agent_id == session.agent_id}
    if session.agent_connection_id:
        found.add(session.agent_connection_id)
    return sorted(found)


def _checked_id(value: str | None, name: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_CHARS:
        raise InvalidInput(f"{name} must be 1 to {MAX_ID_CHARS} characters")
    return value


# --- consoles --------------------------------------------------------------------------------------


@frozen
class ConsoleCommand:
    connection_id: str
    agent_id: str


class ConnectConsole:
    """``$connect`` of an agent: the console joins the fan-out of ``queue_changed``."""

    def __init__(self, desk: HandoffDesk, clock: Clock) -> None:
        self._desk = desk
        self._clock = clock

    def __call__(self, command: ConsoleCommand) -> None:
        now = self._clock.now()
        console = AgentConnection(command.connection_id, command.agent_id, now)
        self._desk.add_agent_connection(console, now + CONSOLE_LIFETIME)


class DisconnectConsole:
    def __init__(self, desk: HandoffDesk) -> None:
        self._desk = desk

    def __call__(self, connection_id: str) -> None:
        self._desk.remove_agent_connection(connection_id)


# --- the queue -------------------------------------------------------------------------------------


class ShowQueue(HandoffMoves):
    def __call__(self, command: ConsoleCommand) -> None:
        now = self.clock.now()
        entries = [e for e in self.desk.open_handoffs(MAX_QUEUE_ENTRIES) if e.expires_at > now]
        self.tell(command.connection_id, queue_frame(entries, now))


# --- moves -----------------------------------------------------------------------------------------


@frozen
class AgentMoveCommand:
    connection_id: str | None  # the console that asked; None for a direct invocation
    agent_id: str
    session_id: str


class ClaimHandoff(HandoffMoves):
    """Take a waiting session. Of two agents claiming at once the store lets exactly one transaction
    through; the other reads the session again and is refused (``HeldByAnotherAgent``: 409)."""

    def __call__(self, command: AgentMoveCommand) -> Session:
        return claim(self, command)


def claim(m: HandoffMoves, command: AgentMoveCommand) -> Session:
    asking = [] if command.connection_id is None else [command.connection_id]
    for _ in range(ATTEMPTS):
        session = m.live(command.session_id)
        if session.held_by(command.agent_id):  # a repeat (or a reloaded console): show it again
            m.show_conversation(session, asking)
            return session
        updated = session.claim(
            command.agent_id, command.connection_id, m.clock.now(), m.settings.session_ttl
        )
        try:
            m.record(
                session,
                updated,
                HandoffTransition.CLAIMED,
                command.agent_id,
                f"{command.agent_id} joined the conversation.",
            )
        except ConcurrentUpdate:
            m.telemetry.count(metric.HANDOFF_CLAIM_RACES)
            continue  # read it again: taken by another agent, or only touched by the customer
        m.show_conversation(updated, asking or m.holder_consoles(updated))
        m.announce(updated, HandoffTransition.CLAIMED)
        return updated
    raise ConcurrentUpdate("the session kept changing; try again")


@frozen
class TransferCommand:
    connection_id: str | None
    agent_id: str
    session_id: str
    to_agent_id: str | None  # None: back to the queue


class TransferHandoff(HandoffMoves):
    def __call__(self, command: TransferCommand) -> Session:
        m = self
        if command.to_agent_id is not None:
            _checked_id(command.to_agent_id, "to_agent_id")
        for _ in range(ATTEMPTS):
            session = m.live(command.session_id)
            now = m.clock.now()
            # The entity refuses a transfer by anyone but the holder, and to oneself, first.
            session.transfer(command.agent_id, command.to_agent_id, None, now, m.settings.session_ttl)
            targets = m.consoles(command.to_agent_id) if command.to_agent_id else []
            if command.to_agent_id and not targets:
                raise UnknownAgent(f"agent {command.to_agent_id} is not connected")
            updated = session.transfer(
                command.agent_id,
                command.to_agent_id,
                targets[-1].connection_id if targets else None,
                now,
                m.settings.session_ttl,
            )
            text = (
                f"{command.agent_id} passed the conversation to {command.to_agent_id}."
                if command.to_agent_id
                else f"{command.agent_id} put the conversation back in the agents' queue."
            )
            try:
                m.record(session, updated, HandoffTransition.TRANSFERRED, command.agent_id, text)
            except ConcurrentUpdate:
                continue
            m.tell(
                command.connection_id,
                {"type": "transferred", "session_id": session.session_id, "to_agent_id": command.to_agent_id},
            )
            if targets:
                consoles = [t.connection_id for t in targets]
                m.show_conversation(updated, consoles, transferred_from=command.agent_id)
            m.announce(updated, HandoffTransition.TRANSFERRED)
            return updated
        raise ConcurrentUpdate("the session kept changing; try again")


class ReleaseHandoff(HandoffMoves):
    """Back to the bot; its next prompt holds the agent's turns like any others."""

    def __call__(self, command: AgentMoveCommand) -> Session:
        m = self
        for _ in range(ATTEMPTS):
            session = m.live(command.session_id)
            updated = session.release_to_bot(m.clock.now(), m.settings.session_ttl, by_agent=command.agent_id)
            try:
                m.record(
                    session,
                    updated,
                    HandoffTransition.RELEASED,
                    command.agent_id,
                    f"{command.agent_id} handed the conversation back to MangaAssist.",
                )
            except ConcurrentUpdate:
                continue
            m.tell(command.connection_id, {"type": "released", "session_id": session.session_id})
            m.announce(updated, HandoffTransition.RELEASED)
            return updated
        raise ConcurrentUpdate("the session kept changing; try again")


# --- replies ---------------------------------------------------------------------------------------


@frozen
class AgentReplyCommand:
    connection_id: str | None
    agent_id: str
    session_id: str
    message: str
    reply_id: str


@frozen
class AgentReplyOutcome:
    turn: Turn
    stored: bool  # False: a repeat of ``reply_id``; nothing was stored or pushed


class AgentReply(HandoffMoves):
    """An agent answers the customer. Once per ``reply_id``: a retry stores and pushes nothing."""

    def __call__(self, command: AgentReplyCommand) -> AgentReplyOutcome:
        m = self
        text = command.message.strip() if isinstance(command.message, str) else ""
        if not text:
            raise InvalidInput("message must not be empty")
        if len(text) > m.settings.max_message_chars:
            raise MessageTooLarge(f"message is longer than {m.settings.max_message_chars} characters")
        if text_cost(text) > m.settings.max_message_bytes:  # so that the customer's frame fits 32 KB
            raise MessageTooLarge(f"message is longer than {m.settings.max_message_bytes} bytes in a frame")
        reply_id = _checked_id(command.reply_id, "reply_id")
        session = m.live(command.session_id)
        now = m.clock.now()
        turn = Turn(
            turn_id=m.ids.turn_id(now),
            role=Role.ASSISTANT,
            content=text,
            token_count=m.counter.count(text),
            created_at=now,
            response_id=m.ids.response_id(),
            agent_id=command.agent_id,
        )
        stored_turn, stored = m.desk.add_agent_reply(
            session.session_id, reply_id, turn, now + m.settings.session_ttl
        )
        if stored:
            m.telemetry.count(metric.AGENT_REPLIES)
            m.tell(session.connection_id, agent_message_frame(stored_turn))
        m.tell(
            command.connection_id,
            {
                "type": "replied",
                "session_id": session.session_id,
                "reply_id": reply_id,
                "response_id": stored_turn.response_id,
                "repeat": not stored,
            },
        )
        return AgentReplyOutcome(stored_turn, stored)
