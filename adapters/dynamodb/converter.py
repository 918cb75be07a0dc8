"""The adapter's one cattrs converter: domain objects to DynamoDB items and back. Private to this package.

- No float ever reaches boto3 (it refuses them, and ``Decimal(0.1)`` trips its Inexact trap):
  a float becomes ``Decimal(str(x))``.
- A datetime is epoch seconds (``N``) with its microseconds; an ISO 8601 string is read as well.
- Turn text is stored as ``content_compressed``: zlib of its UTF-8 (``B``). ``B`` comes back as bytes
  whether boto3 hands over ``bytes`` or ``Binary``.
- ``None`` is never written: the attribute is left out (a detached session must leave the GSI).
- Keys are not the entities' business: ``PK``/``SK`` are added by the repository, and the ids they
  carry (turn id, session id of a summary) are read back from them.
"""

from __future__ import annotations

import enum
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any, cast

import cattrs
from attrs import frozen
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from adapters.dynamodb.layout import (
    MESSAGE_PREFIX,
    OPEN,
    QUEUE_ATTRIBUTE,
    SK,
    AttributeValue,
    Item,
    handoff_id_of,
    turn_id_of,
)
from domain.model import Handoff, Session, SessionStatus, Summary, Turn

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@frozen
class MessageState:
    """The ``MSG#`` item: what the store remembers of one client message id."""

    user_turn_id: str
    reply_turn_id: str | None = None
    lease_until: datetime | None = None
    message_id: str = ""  # from the key; not an attribute of the item


# --- scalar conversions ----------------------------------------------------------------------------


def to_epoch(moment: datetime) -> Decimal:
    """Epoch seconds, exact to the microsecond (integer arithmetic: no float on the way)."""
    return Decimal((moment - EPOCH) // _MICROSECOND).scaleb(-6)


def from_epoch(value: Decimal | int | str) -> datetime:
    micros = (Decimal(value) * 1_000_000).to_integral_value()
    return EPOCH + timedelta(microseconds=int(micros))


def ttl_of(moment: datetime) -> int:
    """DynamoDB's TTL wants whole epoch seconds; rounding up never expires an item early."""
    return int(to_epoch(moment).to_integral_value(rounding=ROUND_CEILING))


def compress(text: str) -> bytes:
    return zlib.compress(text.encode("utf-8"))


def decompress(blob: bytes) -> str:
    return zlib.decompress(blob).decode("utf-8")


def _datetime(value: Any, _: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return from_epoch(value)


def _bytes(value: Any, _: Any) -> bytes:
    return bytes(value)  # bytes itself, or boto3's Binary wrapper (which converts)


# --- the converter ---------------------------------------------------------------------------------

_converter = cattrs.Converter()
_converter.register_unstructure_hook(datetime, to_epoch)
_converter.register_structure_hook(datetime, _datetime)
_converter.register_unstructure_hook(float, lambda number: Decimal(str(number)))
_converter.register_structure_hook(bytes, _bytes)
_converter.register_structure_hook(int, lambda value, _: int(value))
_converter.register_structure_hook(bool, lambda value, _: bool(value))  # else int's hook takes it: 0
# StrEnum is a str, and str unstructures as itself: name the enum class so that it wins.
_converter.register_unstructure_hook(enum.StrEnum, lambda member: member.value)
_converter.register_unstructure_hook(
    Turn,
    make_dict_unstructure_fn(
        Turn,
        _converter,
        turn_id=override(omit=True),
        content=override(rename="content_compressed", unstruct_hook=compress),
    ),
)
_converter.register_structure_hook(
    Turn,
    make_dict_structure_fn(
        Turn,
        _converter,
        content=override(
            rename="content_compressed", struct_hook=lambda blob, _: decompress(_bytes(blob, None))
        ),
    ),
)
_converter.register_unstructure_hook(
    Summary,
    make_dict_unstructure_fn(
        Summary, _converter, session_id=override(omit=True), text=override(rename="summary_text")
    ),
)
_converter.register_structure_hook(
    Summary, make_dict_structure_fn(Summary, _converter, text=override(rename="summary_text"))
)

_converter.register_unstructure_hook(
    Handoff,
    make_dict_unstructure_fn(
        Handoff, _converter, handoff_id=override(omit=True), session_id=override(omit=True)
    ),
)

_converter.register_unstructure_hook(
    MessageState, make_dict_unstructure_fn(MessageState, _converter, message_id=override(omit=True))
)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def value(python: Any) -> AttributeValue:
    """One expression value, converted as an attribute would be."""
    return cast(AttributeValue, _serializer.serialize(_converter.unstructure(python)))


def to_item(values: Mapping[str, Any]) -> Item:
    plain = _converter.unstructure(dict(values))
    return {
        name: cast(AttributeValue, _serializer.serialize(v)) for name, v in plain.items() if v is not None
    }


def from_item(item: Mapping[str, AttributeValue]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(cast(Any, v)) for name, v in item.items()}


# --- items -----------------------------------------------------------------------------------------


def session_item(session: Session) -> Item:
    values = _converter.unstructure(session)
    values["ttl"] = ttl_of(session.expires_at)
    if session.status is SessionStatus.HANDOFF:  # the sparse queue index's key
        values[QUEUE_ATTRIBUTE] = OPEN
    return to_item(values)


def session_from(item: Mapping[str, AttributeValue]) -> Session:
    values = from_item(item)
    values.setdefault("customer_id", None)
    values.setdefault("connection_id", None)
    values.setdefault("expires_at", values.get("ttl"))  # a META of the original layout has only ttl
    return _converter.structure(values, Session)


def turn_item(turn: Turn, ttl: int) -> Item:
    return to_item({**_converter.unstructure(turn), "ttl": ttl})


def turn_from(item: Mapping[str, AttributeValue]) -> Turn:
    values = from_item(item)
    values["turn_id"] = turn_id_of(values[SK])
    return _converter.structure(values, Turn)


def summary_item(summary: Summary, ttl: int) -> Item:
    return to_item({**_converter.unstructure(summary), "ttl": ttl})


def summary_from(session_id: str, item: Mapping[str, AttributeValue]) -> Summary:
    return _converter.structure({**from_item(item), "session_id": session_id}, Summary)


def message_item(state: MessageState, ttl: int) -> Item:
    return to_item({**_converter.unstructure(state), "ttl": ttl})


def message_from(item: Mapping[str, AttributeValue]) -> MessageState:
    values = from_item(item)
    values["message_id"] = str(values.get(SK, "")).removeprefix(MESSAGE_PREFIX)
    return _converter.structure(values, MessageState)


def handoff_item(handoff: Handoff, ttl: int) -> Item:
    return to_item({**_converter.unstructure(handoff), "ttl": ttl})


def handoff_from(session_id: str, item: Mapping[str, AttributeValue]) -> Handoff:
    values = from_item(item)
    values.update(session_id=session_id, handoff_id=handoff_id_of(values[SK]))
    return _converter.structure(values, Handoff)
