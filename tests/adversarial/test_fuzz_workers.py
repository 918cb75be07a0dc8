"""The asynchronous handlers under arbitrary batches: the turn writer's SQS messages (valid pending
writes, repeated, among garbage) and the Streams records of the summarizer and of the cleanup.
Never more than the batch's own records fail; a valid write lands exactly once; garbage writes
nothing; only a TTL removal of a session's META deletes anything."""

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
from application.ports import PendingWrite
from domain.model import Role, Turn
from entrypoints import session_cleanup, summary_generator, turn_writer
from tests.adversarial.ledger import LEDGER
from tests.adversarial.oracle import snapshot, tally
from tests.adversarial.profile import examples
from tests.adversarial.strategies import json_values, text
from tests.adversarial.systems import StrictChat, fresh_id, memory_chat
from tests.harness import load_event

TTL_SERVICE = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
wrong_types = st.one_of(st.lists(st.integers(), max_size=2), st.floats(), st.dictionaries(text, st.none()))


@pytest.fixture
def chat() -> Iterator[StrictChat]:
    with memory_chat(
        env={"WEBSOCKET_CALLBACK_URL": "https://abc123.execute-api.us-east-1.amazonaws.com/prod"}
    ) as system:
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
        repo.record_message(
            session_id, connection_id, question, repo.get(session_id).status, now, now, now + timedelta(1), 5
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


numbers = st.one_of(st.integers(-3, 40).map(str), st.sampled_from(["1.5", "NaN", "1e3", "x", "", "-0"]))
images = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "turn_count": st.one_of(numbers.map(lambda n: {"N": n}), st.just({"S": "3"}), json_values),
            "connection_id": st.one_of(text.map(lambda c: {"S": c}), json_values),
        },
    ),
)
identities = st.one_of(
    st.none(), st.just(TTL_SERVICE), st.just({"type": "Service", "principalId": "someone"}), json_values
)
records = st.fixed_dictionaries(
    {
        "eventName": st.sampled_from(["INSERT", "MODIFY", "REMOVE", "remove", "DELETE"]),
        "pk": st.sampled_from(["own", "unknown", "junk"]),
        "sk": st.sampled_from(["META", "META", "TURN#1", "SUMMARY#1", "meta"]),
        "old": images,
        "new": images,
        "identity": identities,
    }
)


def stream_event(session_id: str, fuzzed: list[dict[str, Any]]) -> dict[str, Any]:
    template = load_event("ddb_stream_ttl_remove.json")["Records"][0]
    pks = {"own": f"SESSION#{session_id}", "unknown": "SESSION#9d3c9a4e-0000-4000-8000-00000000000e"}
    out = []
    for n, record in enumerate(fuzzed):
        change = {"Keys": {"PK": {"S": pks.get(record["pk"], "junk")}, "SK": {"S": record["sk"]}}}
        for name, image in (("OldImage", record["old"]), ("NewImage", record["new"])):
            if image is not None:
                change[name] = image
        out.append(
            {
                **template,
                "eventName": record["eventName"],
                "userIdentity": record["identity"],
                "dynamodb": {
                    **change,
                    "SequenceNumber": str(100 + n),
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
            }
        )
    return {"Records": out}


def run_batch(handler: Any, batch: dict[str, Any]) -> set[str]:
    try:
        return {f["itemIdentifier"] for f in handler(batch, None)["batchItemFailures"]}
    except BatchProcessingError:
        return {r["dynamodb"]["SequenceNumber"] for r in batch["Records"]}


def is_expiry(record: dict[str, Any]) -> bool:
    return bool(
        record["eventName"] == "REMOVE"
        and record["pk"] == "own"
        and record["sk"] == "META"
        and record["identity"] == TTL_SERVICE
    )


def _readable(image: Any) -> bool:
    """DynamoDB sends attribute values as {"S": ...} maps; other shapes (a fuzzer's) may fail alone."""
    return image is None or not isinstance(image, dict) or isinstance(image.get("connection_id", {}), dict)


def _connection_of(image: Any) -> str | None:
    value = ((image or {}).get("connection_id") or {}).get("S") if isinstance(image, dict) else None
    return value if isinstance(value, str) and value else None


@examples(120)
@given(fuzzed=st.lists(records, min_size=1, max_size=5))
def test_any_streams_batch_for_the_cleanup(chat: StrictChat, fuzzed: list[dict[str, Any]]) -> None:
    connection_id = fresh_id("cleanup")
    assert chat.connect(connection_id, "cust-cleanup") == 200 and chat.say(connection_id, "hi", "c-1") == 200
    session_id = chat.repository.session_id_of_connection(connection_id)
    before = snapshot(chat.repository, session_id)

    run_batch(session_cleanup.handler, stream_event(session_id, fuzzed))

    LEDGER.input("session_cleanup Streams batches")

    LEDGER.example("session_cleanup Streams batches")
    after = snapshot(chat.repository, session_id)
    expiries = [record for record in fuzzed if is_expiry(record)]
    if any(_readable(record["old"]) for record in expiries):
        assert after.status is None and after.turns == ()
        named = {_connection_of(record["old"]) for record in expiries if _readable(record["old"])}
        assert named - {None} <= chat.notifier.closed, "an expired session's connection was left open"
    elif not expiries:
        assert after == before, "a record that was no TTL expiry deleted something"


@examples(120)
@given(fuzzed=st.lists(records, min_size=1, max_size=5))
def test_any_streams_batch_for_the_summarizer(chat: StrictChat, fuzzed: list[dict[str, Any]]) -> None:
    connection_id = fresh_id("summary")
    assert chat.connect(connection_id, "cust-summary") == 200
    for n in range(3):
        assert chat.say(connection_id, f"question {n}", f"s-{n}") == 200
    session_id = chat.repository.session_id_of_connection(connection_id)
    repo = chat.repository
    before, completions = snapshot(repo, session_id), len(chat.llm.completions)

    run_batch(summary_generator.handler, stream_event(session_id, fuzzed))

    LEDGER.input("summary_generator Streams batches")

    LEDGER.example("summary_generator Streams batches")
    after = snapshot(repo, session_id)
    assert after == before, "the summarizer changed the conversation"
    summaries = list(repo.summaries(session_id))
    assert len({s.last_turn_id for s in summaries}) == len(summaries)
    assert all(s.turns_covered <= after.turn_count for s in summaries), "a summary of turns that never were"
    if not any(r["sk"] == "META" and r["pk"] != "junk" and r["eventName"] != "REMOVE" for r in fuzzed):
        assert len(chat.llm.completions) == completions
