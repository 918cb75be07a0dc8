"""Errors raised by adapters through the ports, in the application's own words."""

from domain.errors import Conflict


class InfrastructureError(Exception):
    """A dependency failed or is gone: no rule of the conversation, so not a ``DomainError``."""


class Unavailable(InfrastructureError):
    """A dependency (the table, the model, the queue) did not answer after bounded retries."""


class ModelUnavailable(Unavailable):
    """The model was throttled, not ready or timed out, after retries."""


class ModelFailed(InfrastructureError):
    """The model refused our request or broke mid-stream in a way retrying will not fix: our bug."""


class ConcurrentUpdate(Conflict):
    """The stored session changed between our read and our write."""


class MessageInProgress(Conflict):
    """Another invocation holds the lease on this message id and is answering it right now."""


class ConnectionGone(InfrastructureError):
    """The client's WebSocket is closed (API Gateway's GoneException)."""


class WriteNotDurable(InfrastructureError):
    """A write failed after retries and could not be queued for replay either. Never swallowed."""


class ReplyInProgress(Conflict):
    """The session's model is still answering an earlier message: one reply at a time per session.
    Refused, not queued: the client sends the next message once the reply has arrived."""

    def __init__(
        self,
        message: str = "the reply to your previous message is still being written: "
        "send this one when it has arrived",
    ) -> None:
        super().__init__(message)
