"""One model call at a time per session: the session's turn, two attributes of META.

``answering`` (the message id the model is answering) and ``answering_until`` (epoch seconds: its
lease; past it, the turn is free again, as when the invocation died). The message's own transaction
takes the turn (a condition and a SET on the META update it makes anyway: no extra call); the reply's
transaction ends it (a REMOVE on its META update); a failed model call gives it back with one
conditional UpdateItem. A message that finds the turn held is refused with ``ReplyInProgress``.

The reply's REMOVE is unconditional, as a condition there would cancel the reply itself: it is made
only by the live invocation (``complete_exchange(live=True)``), which finishes well inside its own
lease (the message function's 30 s timeout against a 45 s lease), so it never ends a newer message's
turn. A replay from the retry queue, later, leaves the turn alone.
"""

from __future__ import annotations

from datetime import datetime

from adapters.dynamodb.converter import from_epoch
from adapters.dynamodb.expressions import Update
from adapters.dynamodb.layout import META, Item
from adapters.dynamodb.transactions import PartitionWriter

ANSWERING = "answering"
ANSWERING_UNTIL = "answering_until"


def take_turn(update: Update, message_id: str, now: datetime, until: datetime) -> None:
    """The turn is free, ran out, or is this message's already (a retried write): take it."""
    holder, lease = update.n(ANSWERING), update.n(ANSWERING_UNTIL)
    mine = update.v(message_id)
    update.when(f"attribute_not_exists({holder}) OR {holder} = {mine} OR {lease} <= {update.v(now)}")
    update.set(ANSWERING, message_id).set(ANSWERING_UNTIL, until)


def end_turn(update: Update) -> None:
    update.remove(ANSWERING).remove(ANSWERING_UNTIL)


def held_by_another(meta: Item | None, message_id: str, now: datetime) -> bool:
    """Whether ``meta`` (an old image) shows another message's turn, not yet run out."""
    if not meta or ANSWERING not in meta:
        return False
    until = meta.get(ANSWERING_UNTIL, {}).get("N")
    return meta[ANSWERING].get("S") != message_id and until is not None and from_epoch(until) > now


def release_turn(writer: PartitionWriter, session_id: str, message_id: str) -> None:
    """Give the turn back if this message holds it; nothing when it does not."""
    update = Update().exists()
    end_turn(update)
    update.when(f"{update.n(ANSWERING)} = {update.v(message_id)}")
    writer.update_if(session_id, META, update)
