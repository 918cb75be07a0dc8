"""The application's named events: things that happened, which other use cases react to.

Every transport turns its input into these (DynamoDB Streams records, SQS messages, the in-memory
store's change feed), and use cases publish them (``EventPublisher``); ``application.messagebus``
holds the one table that says who handles each."""

from __future__ import annotations

from datetime import datetime

from attrs import frozen

from domain.limits import Charge
from domain.model import Turn


@frozen
class MessageForwarded:
    """A customer wrote while a human agent holds the session: the agent's console should see it."""

    session_id: str
    turn: Turn


@frozen
class ClientGone:
    """A push found the customer's WebSocket closed: the session should stop naming that connection."""

    session_id: str
    connection_id: str


@frozen
class TurnsCounted:
    """A session's ``turn_count`` went from ``before`` to ``after``: perhaps past a summary mark."""

    session_id: str
    before: int
    after: int


@frozen
class SessionExpired:
    """The TTL service removed the session's META item (idle past its expiry)."""

    session_id: str
    connection_id: str | None


@frozen
class PendingWrite:
    """A write is pending: it failed on the message path and must eventually land (the turn writer
    replays it from the retry queue)."""

    kind: str  # "complete_exchange"
    session_id: str
    message_id: str
    reply: Turn
    expires_at: datetime
    charge: Charge | None = None  # the reply's tokens, for its customer's day (once, with the reply)


Event = MessageForwarded | ClientGone | TurnsCounted | SessionExpired | PendingWrite
ChangeEvent = TurnsCounted | SessionExpired  # what a store's change feed (or stream) reports
