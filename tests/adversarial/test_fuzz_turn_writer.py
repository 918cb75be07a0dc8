"""The turn writer under arbitrary SQS batches: valid pending writes, repeated, among garbage (any
text, any JSON, the format with a field missing or of the wrong type, another version, unknown
sessions and messages). A valid write lands exactly once and never fails; garbage fails alone and
writes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from hypothesis import event, given
from hypothesis import strategies as st

from adapters.retry_message import encode_pending_write
from application.ports import NewMessage, PendingWrite
from domain.model import Role, Turn
from entrypoints import turn_writer
from testing.harness import load_event
from tests.adversarial.ledger import LEDGER
from tests.adversarial.oracle import snapshot, tally
from tests.adversarial.profile import examples
from tests.adversarial.strategies import json_values, text
from tests.adversarial.systems import StrictChat, fresh_id, memory_chat

wrong_types = st.one_of(st.lists(st.integers(), max_size=2), st.floats(), st.dictionaries(text, st.none()))


@pytest.fixture
def chat() -> Iterator[StrictChat]:
    with memory_chat() as system:
        yield system


def unanswered(chat: StrictChat, count: int) -> tuple[str, list[PendingWrite]]:
    """A session whose last ``count`` messages are stored without their replies (the reply writes
    failed), and the pending writes that the turn writer must land."""
    connection_id = fresh_id("writer")
    assert chat.connect(connection_id, "cust-writer") == 200
    repo, ids, now = chat.repository, chat.container.adapters.ids(), chat.container.adapters.clock().now()
    session_id = repo.session_id_of_connection(connection_id)
    writes = []
    for n in range(count):
        question = Turn(ids.turn_id(now), Role.USER, f"question {n}", 3, now, message_id=f"w-{n}")
        status = repo.get(session_id).status
        repo.record_message(
            NewMessage(session_id, connection_id, question, status, now, now, now + timedelta(1)), 5
        )
        reply = Turn(question.reply_id(), Role.ASSISTANT, f"answer {n}", 3, now, f"w-{n}", f"r-{n}")
        writes.append(PendingWrite("complete_exchange", session_id, f"w-{n}", reply, now + timedelta(1)))
    return session_id, writes


def broken(write: PendingWrite, path: tuple[str, ...], value: Any) -> str:
    data = json.loads(encode_pending_write(write))
    target = data
    for name in path[:-1]:
        target = target[name]
    if value is None:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    return json.dumps(data)


FIELDS: list[tuple[str, ...]] = [
    ("format",),
    ("version",),
    ("kind",),
    ("session_id",),
    ("message_id",),
    ("expires_at",),
    ("reply",),
]
FIELDS += [("reply", name) for name in ("turn_id", "role", "content", "token_count", "created_at")]
garbage = st.one_of(
    st.text(max_size=50),
    json_values.map(json.dumps),
    st.tuples(st.sampled_from(FIELDS), st.one_of(st.none(), wrong_types)),
    st.sampled_from(["version 2", "unknown session", "unknown message"]),
)


def sqs_event(bodies: list[str]) -> dict[str, Any]:
    template = load_event("sqs_retry_batch.json")["Records"][0]
    records = [{**template, "messageId": f"sqs-{n}", "body": body} for n, body in enumerate(bodies)]
    return {"Records": records}


@examples(120)
@given(
    picks=st.lists(st.one_of(st.integers(0, 2), garbage), min_size=1, max_size=6),
)
def test_any_turn_writer_batch(chat: StrictChat, picks: list[Any]) -> None:
    session_id, writes = unanswered(chat, 3)
    before = snapshot(chat.repository, session_id)
    bodies, valid = [], set()
    for pick in picks:
        if isinstance(pick, int):
            bodies.append(encode_pending_write(writes[pick]))
            valid.add(len(bodies) - 1)
        elif isinstance(pick, tuple):
            bodies.append(broken(writes[0], *pick))
        elif pick == "version 2":
            bodies.append(broken(writes[0], ("version",), 2))
        elif pick.startswith("unknown "):
            bodies.append(
                broken(writes[1], (pick.split()[1] + "_id",), "9d3c9a4e-0000-4000-8000-00000000000f")
            )
        else:
            bodies.append(pick)

    try:
        failed = {
            f["itemIdentifier"] for f in turn_writer.handler(sqs_event(bodies), None)["batchItemFailures"]
        }
    except BatchProcessingError:  # every record failed: SQS gives the whole batch back
        failed = {f"sqs-{n}" for n in range(len(bodies))}

    LEDGER.input("turn_writer SQS batches")

    LEDGER.example("turn_writer SQS batches")
    event(f"{len(failed)} of {len(bodies)} failed")
    after = snapshot(chat.repository, session_id)
    landed = {writes[picks[n]].message_id for n in valid}
    result = tally(after.turns, [w.message_id for w in writes if w.message_id in landed])
    LEDGER.lost_and_duplicated(result.lost, result.duplicated, "turn_writer SQS batches")
    assert result.lost == result.duplicated == 0, result.details
    assert not failed & {f"sqs-{n}" for n in valid}, "a valid pending write failed"
    assert [t for t in after.turns if t.role == "user"] == [t for t in before.turns if t.role == "user"]
    assert after.turn_count == len(after.turns) == len(before.turns) + len(landed)
