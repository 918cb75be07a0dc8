"""Changes to the store that the asynchronous workers react to. DynamoDB Streams records and the
in-memory store's own change feed are both turned into these."""

from __future__ import annotations

from attrs import frozen


@frozen
class TurnsCounted:
    """A session's ``turn_count`` went from ``before`` to ``after``."""

    session_id: str
    before: int
    after: int


@frozen
class SessionExpired:
    """The TTL service removed the session's META item (idle past its expiry)."""

    session_id: str
    connection_id: str | None


ChangeEvent = TurnsCounted | SessionExpired
