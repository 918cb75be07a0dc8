"""Where everything lives in the single table, and how long it lives.

One partition per session, ``PK = SESSION#<session_id>``:

``META``
    ``session_id``, ``customer_id``, ``connection_id`` (absent when detached, so the session leaves
    the ``GSI2-connection-lookup`` index), ``status``, ``turn_count``, ``created_at``, ``updated_at``,
    ``expires_at`` (exact, in epoch seconds with microseconds: every condition on liveness reads it),
    ``ttl`` (``expires_at`` rounded up to whole seconds, as DynamoDB's TTL wants), ``resumed``.
``TURN#<turn_id>``
    One per turn. ``turn_id`` sorts in conversation order and never collides; the assistant reply to a
    user turn is ``<user turn_id>~a``, right after its question and before anything later.
``MSG#<message_id>``
    The idempotency record of a client message id: ``user_turn_id``, ``reply_turn_id`` once answered,
    ``lease_until`` while an invocation is answering it.
``SUMMARY#<last_turn_id>``
    A rolling summary; the latest is the one with the greatest ``last_turn_id``.
``HANDOFF#<handoff_id>``
    One transition of a handoff (``transition``: waiting, claimed, transferred, released; ``agent_id``,
    ``by_agent_id``, ``reason``, ``timestamp``), written in the transaction that changes META; the id
    sorts in time order, so the records are the session's handoff history.
``REPLY#<reply_id>``
    An agent's reply id, remembered with the turn it stored (``turn_id``, ``agent_id``), in the same
    transaction: the same ``reply_id`` again stores and pushes nothing.

The agents' queue is the sparse index ``GSI3-open-handoffs``: META carries ``handoff_queue`` (always
``open``) and ``waiting_since`` only while the session is in handoff, so the index holds exactly the
open handoffs, oldest first, and the state change that puts a session in it or takes it out is the
one META write of the transition's transaction. A session that expires in handoff leaves it with its
META. The index projects only what a queue entry shows.

Connected agents live in one partition, ``PK = AGENTS``, ``SK = CONNECTION#<connection_id>``
(``agent_id``, ``connected_at``, ``ttl``): one strongly consistent Query lists them for the
``queue_changed`` fan-out. ``$connect`` puts the item and ``$disconnect`` deletes it; one whose
disconnect was lost goes when a push finds the connection gone, or by its ``ttl`` (API Gateway closes
every connection after two hours).

Time to live. META's ``ttl`` is the session's idle expiry, moved forward by every write that touches
the session. A child item (turn, message record, summary, handoff) gets the session expiry of the
write that made it plus ``CHILD_GRACE`` (7 days). ``session_cleanup`` deletes a session's children
when DynamoDB expires its META, so the children's own ``ttl`` is only a backstop: it bounds what a
lost cleanup could leave behind, and it never fires before META's while the session is idle. The
price: a session kept busy for more than a week loses its oldest turns to their own ``ttl``; support
conversations idle out after a day (``SESSION_TTL_SECONDS``), so we accept it rather than rewrite
every child on every message.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

PK = "PK"
SK = "SK"
CONNECTION_INDEX = "GSI2-connection-lookup"
CONNECTION_ATTRIBUTE = "connection_id"
QUEUE_INDEX = "GSI3-open-handoffs"
QUEUE_ATTRIBUTE = "handoff_queue"
QUEUE_ORDER = "waiting_since"
OPEN = "open"
QUEUE_PROJECTION = (
    "session_id",
    "customer_id",
    "agent_id",
    "handoff_reason",
    "unclaimed_told",
    "expires_at",
)
AGENTS_PARTITION = "AGENTS"
AGENT_CONNECTION_PREFIX = "CONNECTION#"
TTL_ATTRIBUTE = "ttl"
CHILD_GRACE = timedelta(days=7)

META = "META"
TURN_PREFIX = "TURN#"
MESSAGE_PREFIX = "MSG#"
SUMMARY_PREFIX = "SUMMARY#"
HANDOFF_PREFIX = "HANDOFF#"
REPLY_PREFIX = "REPLY#"

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]


def partition(session_id: str) -> str:
    return f"SESSION#{session_id}"


def key(session_id: str, sort_key: str) -> Item:
    return {PK: {"S": partition(session_id)}, SK: {"S": sort_key}}


def turn_key(turn_id: str) -> str:
    return TURN_PREFIX + turn_id


def message_key(message_id: str) -> str:
    return MESSAGE_PREFIX + message_id


def summary_key(last_turn_id: str) -> str:
    return SUMMARY_PREFIX + last_turn_id


def handoff_key(handoff_id: str) -> str:
    return HANDOFF_PREFIX + handoff_id


def reply_key(reply_id: str) -> str:
    return REPLY_PREFIX + reply_id


def agent_connection_key(connection_id: str) -> Item:
    return {PK: {"S": AGENTS_PARTITION}, SK: {"S": AGENT_CONNECTION_PREFIX + connection_id}}


def turn_id_of(sort_key: str) -> str:
    return sort_key.removeprefix(TURN_PREFIX)


def handoff_id_of(sort_key: str) -> str:
    return sort_key.removeprefix(HANDOFF_PREFIX)
