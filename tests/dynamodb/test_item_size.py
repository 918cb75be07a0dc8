"""Item sizes by DynamoDB's rules: nothing over 400 KB is ever sent, and the documented largest
reply really fits."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.dynamodb.converter import ttl_of, turn_item
from adapters.dynamodb.errors import Backoff
from adapters.dynamodb.item_size import (
    MAX_ITEM_BYTES,
    TURN_OVERHEAD_BYTES,
    ensure_fits,
    item_size,
    number_size,
    read_units,
    write_units,
)
from adapters.dynamodb.layout import key, turn_key
from adapters.dynamodb.repository import DynamoDBSessionRepository
from application.ports import NewMessage
from domain.errors import MessageTooLarge
from domain.model import Role, Session, SessionStatus, Turn
from testing.aws import TABLE
from tests.dynamodb.faults import InjectedFaults

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
IDLE = timedelta(days=1)


def test_sizes_follow_dynamodbs_rules() -> None:
    assert item_size({"name": {"S": "abc"}}) == 4 + 3
    assert item_size({"blob": {"B": b"\x00" * 10}}) == 4 + 10
    assert item_size({"s": {"S": "ü"}}) == 1 + 2  # UTF-8 bytes, not characters
    assert item_size({"ok": {"BOOL": True}, "no": {"NULL": True}}) == 2 + 1 + 2 + 1
    assert number_size("123456") == 4 and number_size("1000") == 2 and number_size("0.001") == 2
    assert number_size("-5") == 3 and number_size("1795770000.123456") == 9
    assert item_size({"l": {"L": [{"S": "ab"}, {"N": "1"}]}}) == 1 + 3 + (1 + 2) + (1 + 2)
    assert item_size({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + (1 + 1 + 1)


def test_capacity_units_round_per_item_and_per_read() -> None:
    assert write_units(100) == 1 and write_units(1025) == 2 and write_units(100, transactional=True) == 2
    assert read_units([100, 200], consistent=False) == 0.5 and read_units([5000], consistent=True) == 2.0


def test_an_item_over_the_limit_is_refused_before_it_is_sent() -> None:
    with pytest.raises(MessageTooLarge):
        ensure_fits({"content": {"B": b"x" * MAX_ITEM_BYTES}}, "the reply")


def random_text(low: int, high: int, chars: int) -> str:
    pick = random.Random(7).randrange
    return "".join(chr(pick(low, high)) for _ in range(chars))


def a_turn(text: str) -> Turn:
    return Turn("0001795770000000000000-0a1b2c3d~a", Role.ASSISTANT, text, 10**6, NOW, "m" * 128, "r" * 36)


def test_the_largest_documented_reply_fits_whatever_its_script() -> None:
    for low, high, size in ((0x20, 0x7F, 1), (0x4E00, 0x9FFF, 3), (0x1F300, 0x1FAFF, 4)):
        text = random_text(low, high, 400_000 // size)
        item = {**key("s" * 128, turn_key(a_turn(text).turn_id)), **turn_item(a_turn(text), ttl_of(NOW))}
        assert item_size(item) <= MAX_ITEM_BYTES
        assert item_size(item) - len(item["content_compressed"]["B"]) < TURN_OVERHEAD_BYTES


@pytest.fixture
def repo(in_process_table: Any) -> Any:
    repository = DynamoDBSessionRepository(TABLE, in_process_table, Backoff(sleep=lambda _: None))
    repository.add(Session.open("s-1", "c-1", "conn-1", NOW, IDLE))
    yield repository
    repository.close()


def test_an_oversized_reply_is_refused_without_a_write(repo: Any, in_process_table: Any) -> None:
    calls = InjectedFaults(in_process_table)  # injects nothing: it only watches
    question = Turn(
        "0001795770000000000000-0a1b2c3d", Role.USER, "write me a novel", 4, NOW, message_id="m-1"
    )
    repo.record_message(NewMessage("s-1", "conn-1", question, SessionStatus.ACTIVE, NOW, NOW, NOW + IDLE), 20)
    huge = a_turn(random_text(0x10000, 0x10FFFF, 200_000))
    sent: list[str] = []
    in_process_table.meta.events.register("before-call.dynamodb", lambda model, **_: sent.append(model.name))
    with pytest.raises(MessageTooLarge):
        repo.complete_exchange("s-1", "m-1", huge, NOW + IDLE)
    assert sent == [] and calls.injected == []
    assert repo.get("s-1").turn_count == 1


def test_a_reply_of_400000_bytes_is_stored(repo: Any) -> None:
    question = Turn("0001795770000000000000-0a1b2c3d", Role.USER, "a long one", 4, NOW, message_id="m-1")
    repo.record_message(NewMessage("s-1", "conn-1", question, SessionStatus.ACTIVE, NOW, NOW, NOW + IDLE), 20)
    reply = Turn(
        question.reply_id(), Role.ASSISTANT, random_text(0x4E00, 0x9FFF, 133_333), 1, NOW, "m-1", "r-1"
    )
    assert repo.complete_exchange("s-1", "m-1", reply, NOW + IDLE) is True
    assert repo.message_record("s-1", "m-1").reply == reply
