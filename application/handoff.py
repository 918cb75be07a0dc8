"""The customer's side of a handoff: asking for a human (the session joins the agents' queue, or an
integration hands it straight to a named agent), the customer's words reaching the agent who holds
the session, and the customer told when nobody has claimed it for a while. The agents' moves are in
``application.agents``."""

from __future__ import annotations

from contextlib import suppress

from attrs import frozen

from application import telemetry as metric
from application.agents import ATTEMPTS, AgentMoveCommand, HandoffMoves, claim, holder_consoles
from application.errors import ConcurrentUpdate, ConnectionGone
from application.events import MessageForwarded
from application.frames import customer_message_frame, handoff_frame
from application.ports import Clock, HandoffDesk, Notifier, SessionStore, Telemetry
from application.sessions import ConnectionSessions
from application.settings import ConversationSettings
from application.telemetry import NoTelemetry
from domain.errors import HeldByAnotherAgent, SessionNotFound
from domain.model import HandoffTransition, Session, SessionStatus

MAX_REASON_CHARS = 500
UNCLAIMED_NOTICE = "No agent is free yet. You are still in the queue; an agent will answer here."
SWEEP_BATCH = 1000


@frozen
class StartHandoffCommand:
    reason: str
    session_id: str | None = None
    connection_id: str | None = None  # set when the customer asked, through their connection
    agent_id: str | None = None  # an integration naming the agent who takes it at once
    agent_connection_id: str | None = None


class StartHandoff(HandoffMoves):
    def __call__(self, command: StartHandoffCommand) -> Session:
        reason = command.reason.strip()[:MAX_REASON_CHARS] or "The customer asked for a human."
        for _ in range(ATTEMPTS):
            session = self._session(command)
            if session.status is SessionStatus.HANDOFF:
                if command.agent_id is None or session.held_by(command.agent_id):
                    self.tell(command.connection_id, handoff_frame(session))  # a repeat
                    return session
                if not session.waiting_for_agent:  # never a silent reassignment
                    raise HeldByAnotherAgent("another agent holds this session")
                move = AgentMoveCommand(command.agent_connection_id, command.agent_id, session.session_id)
                return claim(self, move)
            now = self.clock.now()
            updated = session.hand_off(
                now, self.settings.session_ttl, command.agent_id, command.agent_connection_id, reason
            )
            transition = HandoffTransition.CLAIMED if command.agent_id else HandoffTransition.WAITING
            text = f"The conversation was handed to a human agent. Reason: {reason}"
            try:
                self.record(session, updated, transition, command.agent_id, text)
            except ConcurrentUpdate:
                continue
            if command.agent_id:
                self.show_conversation(updated, self.holder_consoles(updated))
            self.announce(updated, transition)
            return updated
        raise ConcurrentUpdate("the session kept changing; try again")

    def _session(self, command: StartHandoffCommand) -> Session:
        if command.connection_id is not None:
            return ConnectionSessions(self.repo, self.clock).owned(command.connection_id, command.session_id)
        return self.live(command.session_id or "")


class ForwardToAgent:
    """``MessageForwarded``: during a handoff, the customer's message goes to the consoles of the
    agent holding the session, never to the model. While it waits, nobody gets it live: the agent
    who claims it reads it in the conversation the claim shows."""

    def __init__(self, repo: SessionStore, desk: HandoffDesk, notifier: Notifier) -> None:
        self._repo = repo
        self._desk = desk
        self._notifier = notifier

    def __call__(self, event: MessageForwarded) -> bool:
        session = self._repo.get(event.session_id)
        if session is None:
            return False
        delivered = False
        frame = customer_message_frame(event.session_id, event.turn)
        for connection_id in holder_consoles(self._desk, session):
            try:
                self._notifier.push(connection_id, frame)
                delivered = True
            except ConnectionGone:
                self._desk.remove_agent_connection(connection_id)
        return delivered


class NotifyUnclaimed:
    """Run every minute or so: each customer whose handoff has waited unclaimed longer than
    ``handoff_unclaimed_after`` is told once, and ``HandoffsUnclaimed`` counts it. Reads only the
    queue index's entries waiting since before the cut-off."""

    def __init__(
        self,
        repo: SessionStore,
        desk: HandoffDesk,
        notifier: Notifier,
        clock: Clock,
        settings: ConversationSettings,
        telemetry: Telemetry | None = None,
    ) -> None:
        self._repo = repo
        self._desk = desk
        self._notifier = notifier
        self._clock = clock
        self._settings = settings
        self._telemetry = telemetry or NoTelemetry()

    def __call__(self) -> int:
        now = self._clock.now()
        told = 0
        due = self._desk.open_handoffs(
            SWEEP_BATCH, waiting_before=now - self._settings.handoff_unclaimed_after
        )
        for entry in due:
            if entry.agent_id is not None or entry.unclaimed_told or entry.expires_at <= now:
                continue
            session = self._repo.get(entry.session_id)
            if session is None or not session.waiting_for_agent or session.unclaimed_told:
                continue
            updated = session.tell_unclaimed()
            try:
                self._repo.replace(session, updated)  # guarded: a claim meanwhile wins
            except (ConcurrentUpdate, SessionNotFound):
                continue
            self._telemetry.count(metric.HANDOFFS_UNCLAIMED)
            told += 1
            if updated.connection_id is not None:
                frame = {**handoff_frame(updated, transition="unclaimed"), "message": UNCLAIMED_NOTICE}
                with suppress(ConnectionGone):  # told on resume: the handoff frame shows the status
                    self._notifier.push(updated.connection_id, frame)
        return told
