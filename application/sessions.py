"""Use cases around a session's life: open or resume it, describe it, read its history, disconnect."""

from __future__ import annotations

from collections.abc import Sequence

from attrs import frozen

from application.errors import ConcurrentUpdate
from application.events import ClientGone
from application.ports import Clock, ConversationReads, IdGenerator, SessionStore
from application.settings import ConversationSettings
from domain.errors import InvalidInput, NotSessionOwner, SessionNotFound, SessionNotResumable
from domain.model import Session, Turn

RESUME_ATTEMPTS = 3


class ConnectionSessions:
    """Which session a connection speaks for, and the check that it really owns it."""

    def __init__(self, repo: SessionStore, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock

    def session_id(self, connection_id: str, claimed: str | None) -> str:
        """The frame's own ``session_id`` when it names one (ownership is checked by the operation),
        else the connection's session from the store."""
        if claimed:
            return claimed
        found = self._repo.session_id_of_connection(connection_id)
        if found is None:
            # $connect gives every connection a session; one that holds none has seen it resumed
            # from a newer connection (or closed), so the answer is the same as for any stranger.
            raise NotSessionOwner("this connection no longer holds a session")
        return found

    def owned(self, connection_id: str, claimed: str | None) -> Session:
        session = self._repo.get(self.session_id(connection_id, claimed))
        if session is None or session.is_expired(self._clock.now()):
            raise SessionNotFound("no such session")
        if not session.owned_by(connection_id):
            raise NotSessionOwner("this session is not attached to this connection")
        return session


@frozen
class OpenSessionCommand:
    connection_id: str
    customer_id: str | None
    requested_session_id: str | None = None


@frozen
class OpenedSession:
    session: Session
    resumed: bool


class OpenSession:
    """``$connect``: resume the named session when this customer may, else start a new one.

    A refused resume looks exactly like no resume: the connection gets a new session and learns
    nothing about the id it named."""

    def __init__(
        self, repo: SessionStore, clock: Clock, ids: IdGenerator, settings: ConversationSettings
    ) -> None:
        self._repo = repo
        self._clock = clock
        self._ids = ids
        self._settings = settings

    def __call__(self, command: OpenSessionCommand) -> OpenedSession:
        if command.requested_session_id and command.customer_id:
            resumed = self._resume(command)
            if resumed is not None:
                return OpenedSession(resumed, resumed=True)
        now = self._clock.now()
        session = Session.open(
            self._ids.session_id(),
            command.customer_id,
            command.connection_id,
            now,
            self._settings.session_ttl,
        )
        self._repo.add(session)
        return OpenedSession(session, resumed=False)

    def _resume(self, command: OpenSessionCommand) -> Session | None:
        assert command.requested_session_id is not None
        for _ in range(RESUME_ATTEMPTS):
            current = self._repo.get(command.requested_session_id)
            if current is None:
                return None
            try:
                updated = current.resume(
                    command.customer_id, command.connection_id, self._clock.now(), self._settings.session_ttl
                )
                self._repo.replace(current, updated)
            except SessionNotResumable:
                return None
            except (ConcurrentUpdate, SessionNotFound):
                continue  # another connection moved it meanwhile: read again and take it over
            return updated
        return None


@frozen
class DescribeSessionCommand:
    connection_id: str
    session_id: str | None = None


class DescribeSession:
    def __init__(self, sessions: ConnectionSessions) -> None:
        self._sessions = sessions

    def __call__(self, command: DescribeSessionCommand) -> Session:
        return self._sessions.owned(command.connection_id, command.session_id)


@frozen
class HistoryCommand:
    connection_id: str
    limit: int
    session_id: str | None = None


class GetHistory:
    def __init__(
        self, repo: ConversationReads, sessions: ConnectionSessions, settings: ConversationSettings
    ) -> None:
        self._repo = repo
        self._sessions = sessions
        self._settings = settings

    def __call__(self, command: HistoryCommand) -> Sequence[Turn]:
        if not 1 <= command.limit <= self._settings.history_max:
            raise InvalidInput(f"limit must be from 1 to {self._settings.history_max}")
        session = self._sessions.owned(command.connection_id, command.session_id)
        return self._repo.history(session.session_id, command.limit)


@frozen
class DisconnectCommand:
    connection_id: str


class Disconnect:
    """``$disconnect``: mark the session disconnected; never delete it (it can be resumed)."""

    def __init__(self, repo: SessionStore, detach: DetachClient) -> None:
        self._repo = repo
        self._detach = detach

    def __call__(self, command: DisconnectCommand) -> Session | None:
        session_id = self._repo.session_id_of_connection(command.connection_id)
        if session_id is None:
            return None
        return self._detach(ClientGone(session_id, command.connection_id))


class DetachClient:
    """``ClientGone`` (and ``$disconnect``): mark the session disconnected if the connection that left
    still holds it."""

    def __init__(self, repo: SessionStore, clock: Clock, settings: ConversationSettings) -> None:
        self._repo = repo
        self._clock = clock
        self._settings = settings

    def __call__(self, event: ClientGone) -> Session | None:
        for _ in range(RESUME_ATTEMPTS):
            current = self._repo.get(event.session_id)
            if current is None or not current.owned_by(event.connection_id):
                return None  # already moved to a newer connection, or gone: nothing of ours to mark
            updated = current.disconnect(self._clock.now(), self._settings.session_ttl)
            try:
                self._repo.replace(current, updated)
            except ConcurrentUpdate:
                continue
            except SessionNotFound:
                return None
            return updated
        return None
