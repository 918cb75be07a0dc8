"""Human handoff: the session moves to an agent atomically (state, handoff record and a system turn,
all or nothing); while it is there the bot is silent, the customer's words go to the agent, the
agent answers into the session, and finally releases it back to the bot."""

from __future__ import annotations

from contextlib import suppress

from attrs import frozen

from application.errors import ConnectionGone
from application.events import MessageForwarded
from application.frames import agent_message_frame, customer_message_frame, handoff_frame
from application.ports import Clock, Frame, IdGenerator, MessageLog, Notifier, SessionStore, TokenCounter
from application.sessions import ConnectionSessions
from application.settings import ConversationSettings
from domain.errors import InvalidInput, MessageTooLarge, NotSessionOwner, SessionNotFound, UnexpectedStatus
from domain.model import Handoff, Role, Session, SessionStatus, Turn

UNASSIGNED = "unassigned"
MAX_REASON_CHARS = 500


class _HandoffBase:
    def __init__(
        self,
        repo: SessionStore,
        messages: MessageLog,
        notifier: Notifier,
        clock: Clock,
        ids: IdGenerator,
        counter: TokenCounter,
        settings: ConversationSettings,
    ) -> None:
        self._repo = repo
        self._messages = messages
        self._notifier = notifier
        self._clock = clock
        self._ids = ids
        self._counter = counter
        self._settings = settings

    def _session(self, session_id: str | None, connection_id: str | None) -> Session:
        if connection_id is not None:
            return ConnectionSessions(self._repo, self._clock).owned(connection_id, session_id)
        if not session_id:
            raise InvalidInput("session_id is required")
        session = self._repo.get(session_id)
        if session is None or session.is_expired(self._clock.now()):
            raise SessionNotFound("no such session")
        return session

    def _system_turn(self, text: str) -> Turn:
        now = self._clock.now()
        return Turn(self._ids.turn_id(now), Role.SYSTEM, text, self._counter.count(text), now)

    def _tell(self, connection_id: str | None, frame: Frame) -> None:
        if connection_id is None:
            return
        with suppress(ConnectionGone):  # stored all the same: the history shows it on resume
            self._notifier.push(connection_id, frame)


@frozen
class StartHandoffCommand:
    reason: str
    session_id: str | None = None
    connection_id: str | None = None  # set when the customer asked, through their connection
    agent_id: str | None = None
    agent_connection_id: str | None = None


class StartHandoff(_HandoffBase):
    def __call__(self, command: StartHandoffCommand) -> Session:
        reason = command.reason.strip()[:MAX_REASON_CHARS] or "The customer asked for a human."
        session = self._session(command.session_id, command.connection_id)
        now = self._clock.now()
        if session.status is SessionStatus.HANDOFF:
            # A repeat, or an agent picking up a handoff the customer asked for.
            if command.agent_id and command.agent_id != session.agent_id:
                updated = session.assign_agent(
                    command.agent_id, command.agent_connection_id, now, self._settings.session_ttl
                )
                self._repo.replace(session, updated)
                session = updated
            self._tell(session.connection_id, handoff_frame(session, reason))
            return session
        updated = session.hand_off(
            now, self._settings.session_ttl, command.agent_id, command.agent_connection_id
        )
        handoff = Handoff(
            handoff_id=self._ids.turn_id(now),
            session_id=session.session_id,
            agent_id=command.agent_id or UNASSIGNED,
            reason=reason,
            timestamp=now,
        )
        announcement = self._system_turn(f"The conversation was handed to a human agent. Reason: {reason}")
        self._repo.record_transition(session, updated, announcement, handoff)
        self._tell(updated.connection_id, handoff_frame(updated, reason))
        self._tell(updated.agent_connection_id, handoff_frame(updated, reason))
        return updated


@frozen
class AgentReplyCommand:
    session_id: str
    agent_id: str
    message: str


class AgentReply(_HandoffBase):
    def __call__(self, command: AgentReplyCommand) -> Turn:
        text = command.message.strip() if isinstance(command.message, str) else ""
        if not text:
            raise InvalidInput("message must not be empty")
        if len(text) > self._settings.max_message_chars:
            raise MessageTooLarge(f"message is longer than {self._settings.max_message_chars} characters")
        session = self._session(command.session_id, None)
        if session.status is not SessionStatus.HANDOFF:
            raise UnexpectedStatus(session.status)
        if session.agent_id not in (None, UNASSIGNED, command.agent_id):
            raise NotSessionOwner("another agent holds this session")
        now = self._clock.now()
        turn = Turn(
            turn_id=self._ids.turn_id(now),
            role=Role.ASSISTANT,
            content=text,
            token_count=self._counter.count(text),
            created_at=now,
            response_id=self._ids.response_id(),
            agent_id=command.agent_id,
        )
        self._messages.add_turn(
            session.session_id, turn, SessionStatus.HANDOFF, now + self._settings.session_ttl
        )
        self._tell(session.connection_id, agent_message_frame(turn))
        return turn


@frozen
class ReleaseCommand:
    session_id: str
    agent_id: str


class ReleaseToBot(_HandoffBase):
    def __call__(self, command: ReleaseCommand) -> Session:
        session = self._session(command.session_id, None)
        if session.status is not SessionStatus.HANDOFF:
            return session  # a repeat: already released
        if session.agent_id not in (None, UNASSIGNED, command.agent_id):
            raise NotSessionOwner("another agent holds this session")
        updated = session.release_to_bot(self._clock.now(), self._settings.session_ttl)
        announcement = self._system_turn("The human agent handed the conversation back to MangaAssist.")
        self._repo.record_transition(session, updated, announcement)
        self._tell(updated.connection_id, handoff_frame(updated))
        return updated


class ForwardToAgent:
    """``MessageForwarded``: during a handoff, the customer's message goes to the agent's console,
    never to the model."""

    def __init__(self, repo: SessionStore, notifier: Notifier) -> None:
        self._repo = repo
        self._notifier = notifier

    def __call__(self, event: MessageForwarded) -> bool:
        session = self._repo.get(event.session_id)
        if session is None or session.agent_connection_id is None:
            return False  # no console attached: the agent reads it from the history on pick-up
        try:
            frame = customer_message_frame(event.session_id, event.turn)
            self._notifier.push(session.agent_connection_id, frame)
        except ConnectionGone:
            return False
        return True
