"""Domain errors. Entrypoints map each class to a status code and an error frame in one table."""


class DomainError(Exception):
    """Base of every error the conversation rules raise."""


class InvalidInput(DomainError):
    """The request breaks a rule of the conversation: a blank message, a limit out of range."""


class MessageTooLarge(InvalidInput):
    """The message is longer than the configured limit."""


class SessionNotFound(DomainError):
    """No live session answers to this id (unknown, expired or deleted)."""


class NotSessionOwner(DomainError):
    """The connection asked about a session that is not attached to it."""


class NotHandoffHolder(NotSessionOwner):
    """An agent acted on a session another agent (or nobody) holds."""


class NotAnAgent(NotSessionOwner):
    """A customer's connection sent an agent's action."""


class Conflict(DomainError):
    """The request is well formed but the session's state does not allow it now."""


class IllegalTransition(Conflict):
    """A state change the session's life cycle forbids (for example: closed -> active)."""


class SessionNotResumable(DomainError):
    """The named session cannot be resumed by this customer; the caller opens a new one instead."""


class UnexpectedStatus(Conflict):
    """The session is not in the state the operation expected; ``actual`` says which it is."""

    def __init__(self, actual: str) -> None:
        super().__init__(f"session is {actual}")
        self.actual = actual


class LimitReached(DomainError):
    """A limit that protects the bill refuses this message (``domain.limits``): nothing is written and
    the model is not called. ``retry_after``: whole seconds until that limit lets a message through."""

    def __init__(self, limit: str, retry_after: int, message: str) -> None:
        super().__init__(message)
        self.limit = limit
        self.retry_after = retry_after


class NotWaiting(Conflict):
    """The session is not waiting for an agent (with the bot, or already yours)."""


class HeldByAnotherAgent(Conflict):
    """Another agent claimed the session first."""


class UnknownAgent(Conflict):
    """A transfer named an agent who is not connected: nobody would receive the session."""
