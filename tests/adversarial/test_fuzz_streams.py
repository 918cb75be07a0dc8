"""The Streams consumers under arbitrary batches of records: the summarizer never changes the
conversation and summarizes nothing that was not said; the cleanup deletes a session only on the TTL
service's removal of its META, and then closes the connection that META named."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from hypothesis import given
from hypothesis import strategies as st

from entrypoints import session_cleanup, summary_generator
from testing.harness import load_event
from tests.adversarial.ledger import LEDGER
from tests.adversarial.oracle import snapshot
from tests.adversarial.profile import examples
from tests.adversarial.strategies import json_values, text
from tests.adversarial.systems import StrictChat, fresh_id, memory_chat

TTL_SERVICE = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
CALLBACK = {"WEBSOCKET_CALLBACK_URL": "https://abc123.execute-api.us-east-1.amazonaws.com/prod"}


@pytest.fixture
def chat() -> Iterator[StrictChat]:
    with memory_chat(env=CALLBACK) as system:  # the cleanup closes connections through the notifier
        yield system


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
