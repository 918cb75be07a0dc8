"""The adapter's converter: no float ever reaches boto3, times are epoch seconds, text is zlib,
binary comes back as bytes whichever wrapper boto3 used."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import Binary, TypeDeserializer
from hypothesis import given
from hypothesis import strategies as st

from adapters.dynamodb.converter import (
    from_epoch,
    handoff_from,
    handoff_item,
    session_from,
    session_item,
    to_epoch,
    ttl_of,
    turn_from,
    turn_item,
    value,
)
from adapters.dynamodb.layout import key, turn_key
from domain.model import Handoff, Role, Session, SessionStatus, Turn

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

NOW = datetime(2026, 11, 27, 9, 0, 0, 123456, tzinfo=UTC)


def kinds(item: dict[str, Any]) -> set[str]:
    return {kind for attribute in item.values() for kind in attribute}


def test_a_session_item_holds_numbers_as_exact_decimals_and_leaves_absent_values_out() -> None:
    session = Session.open("s-1", None, "conn-1", NOW, timedelta(days=1)).disconnect(NOW, timedelta(days=1))
    item = session_item(session)
    assert kinds(item) <= {"S", "N", "BOOL"}
    assert "connection_id" not in item and "customer_id" not in item  # a detached session leaves the GSI
    assert item["created_at"] == {"N": "1795770000.123456"}
    assert item["ttl"] == {"N": "1795856401"}  # whole seconds for DynamoDB's TTL, rounded up
    assert item["status"] == {"S": "disconnected"}
    assert session_from(item) == session
    assert session_from(item).resumed is False  # not 0, which compares equal and reaches frames as 0


def test_floats_become_decimals_through_their_text() -> None:
    assert value(0.1) == {"N": "0.1"}
    assert value(1e-7) == {"N": "1E-7"}
    assert value(3) == {"N": "3"}


def test_turn_text_is_stored_as_zlib_bytes_and_read_back_from_binary() -> None:
    turn = Turn(
        "0001795770000123456000-0a1b2c3d", Role.USER, "「進撃の巨人」全巻 🙏", 9, NOW, message_id="m-1"
    )
    item = {**key("s-1", turn_key(turn.turn_id)), **turn_item(turn, 99)}
    assert "turn_id" not in item and "content" not in item
    assert zlib.decompress(item["content_compressed"]["B"]).decode() == turn.content
    assert turn_from(item) == turn
    # The resource API and TypeDeserializer wrap B in Binary; the converter wants bytes either way.
    compressed: AttributeValueTypeDef = {"B": bytes(item["content_compressed"]["B"])}
    wrapped: dict[str, Any] = {**item, "content_compressed": compressed}
    assert isinstance(TypeDeserializer().deserialize(compressed), Binary)
    assert turn_from(wrapped).content == turn.content


def test_a_meta_of_the_original_layout_is_read() -> None:
    legacy = {
        "PK": {"S": "SESSION#s-1"},
        "SK": {"S": "META"},
        "session_id": {"S": "s-1"},
        "customer_id": {"S": "c-1"},
        "status": {"S": "active"},
        "turn_count": {"N": "4"},
        "created_at": {"N": "1795770000"},
        "updated_at": {"S": "2026-11-27T09:00:00Z"},
        "ttl": {"N": "1795856400"},
    }
    session = session_from(legacy)
    assert session.status is SessionStatus.ACTIVE and session.connection_id is None
    assert session.updated_at == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    assert session.expires_at == datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    assert session.turn_count == 4


def test_a_handoff_round_trips_with_its_ids_in_the_keys() -> None:
    handoff = Handoff("0001795770000123456000-aa", "s-1", "agent-7", "refund", NOW)
    item = {**key("s-1", "HANDOFF#" + handoff.handoff_id), **handoff_item(handoff, 5)}
    assert "handoff_id" not in item and item["timestamp"] == {"N": "1795770000.123456"}
    assert handoff_from("s-1", item) == handoff


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)))
def test_times_round_trip_to_the_microsecond(moment: datetime) -> None:
    assert from_epoch(to_epoch(moment)) == moment
    assert ttl_of(moment) >= to_epoch(moment) > ttl_of(moment) - 1


@given(st.text(max_size=300), st.integers(min_value=0, max_value=10**9))
def test_any_text_round_trips(text: str, tokens: int) -> None:
    turn = Turn("t-1", Role.ASSISTANT, text, tokens, NOW, message_id="m", response_id="r")
    item = {**key("s", turn_key("t-1")), **turn_item(turn, 1)}
    assert turn_from(item) == turn
    assert all(isinstance(v.get("N", "0"), str) for v in item.values())
    assert Decimal(item["token_count"]["N"]) == tokens
