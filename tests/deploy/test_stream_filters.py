"""Each stream consumer's FilterCriteria in template.yaml against the records the code really writes:
real traffic through the real handlers on moto, its DynamoDB Streams records read with ``get_records``,
then judged by the filter (as Lambda would) and by the consumer's own code (what it acts on). A filter
that drops a record its consumer needs would only show in AWS, as work silently never done."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from moto import mock_aws

from adapters.dynamodb.stream_records import expired_session, turns_counted
from adapters.dynamodb.table import create_table
from entrypoints import session_cleanup, summary_generator
from testing.aws import partition_items
from testing.harness import Chat, load_event
from tests.deploy.conftest import functions, sam_template
from tests.deploy.event_filter import UnsupportedPattern, matches, passes
from tests.deploy.stream_source import TableStream, batch, sort_key, ttl_expiry

TABLE = "manga-assist-streams"
CALLBACK = "https://abc123.execute-api.us-east-1.amazonaws.com/prod"
EVERY = 2  # SUMMARY_EVERY_TURNS: the template's lowest allowed value, so a few messages cross it

# What each stream consumer acts on, in its own code's words. A new consumer needs its line here.
ACTS_ON: dict[str, Callable[[dict[str, Any]], bool]] = {
    "entrypoints.summary_generator": lambda r: turns_counted(DynamoDBRecord(r)) is not None,
    "entrypoints.session_cleanup": lambda r: expired_session(DynamoDBRecord(r)) is not None,
}
# Records each filter exists to keep away from its consumer (beyond what the consumer acts on).
NOISE: dict[str, Callable[[dict[str, Any]], bool]] = {
    # Turns, message ids, its own summaries, handoffs, and every removal: only META changes count.
    "entrypoints.summary_generator": lambda r: sort_key(r) != "META" or r["eventName"] == "REMOVE",
    # Everything that is not an expiry, above all the deletes made by code (its own among them).
    "entrypoints.session_cleanup": lambda r: expired_session(DynamoDBRecord(r)) is None,
}


def stream_consumers() -> dict[str, dict[str, Any]]:
    """Handler module -> its event source mapping's properties, for every mapping on the table's stream."""
    found = {}
    for resource in sam_template()["Resources"].values():
        props = resource["Properties"]
        if resource["Type"] == "AWS::Lambda::EventSourceMapping" and props["EventSourceArn"] == {
            "Fn::GetAtt": ["SessionTable", "StreamArn"]
        }:
            found[functions()[props["FunctionName"]["Ref"]]["Handler"].rpartition(".")[0]] = props
    return found


def criteria(module: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = stream_consumers()[module].get("FilterCriteria")
    return found


class Traffic:
    """A conversation on moto through the real handlers, and its stream read as Lambda receives it."""

    def __init__(self) -> None:
        env = {
            "SESSION_STORE": "dynamodb",
            "SESSION_TABLE": TABLE,
            "SUMMARY_EVERY_TURNS": str(EVERY),
            "WEBSOCKET_CALLBACK_URL": CALLBACK,
        }
        self.chat = Chat(env=env)
        self.chat.workers = None  # no in-process stream delivery: this file delivers, through the filters
        self.client = self.chat.container.adapters.dynamodb_client()
        create_table(self.client, TABLE)
        self.stream = TableStream(self.client, TABLE)
        chat = self.chat
        assert chat.connect("conn-a", "cust-1") == 200
        for n in range(3):
            assert chat.say("conn-a", f"Is volume {n} of Frieren out?", f"m-{n}") == 200
        assert chat.say("conn-a", "Is volume 0 of Frieren out?", "m-0") == 200  # a repeat: stored reply
        self.session_id: str = chat.session_of("conn-a")["session_id"]
        assert chat.disconnect("conn-a") == 200
        assert chat.connect("conn-b", "cust-1", self.session_id) == 200  # resumed on a new connection
        assert chat.send("conn-b", {"action": "handoff", "reason": "refund"}) == 200
        self.records = self.stream.read()

    def partition(self) -> list[dict[str, Any]]:
        return partition_items(self.client, self.session_id, TABLE)


@pytest.fixture
def traffic(monkeypatch: pytest.MonkeyPatch) -> Iterator[Traffic]:
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    with mock_aws():
        made = Traffic()
        yield made
        made.chat.close()


def test_the_stream_consumers_are_the_ones_this_file_knows() -> None:
    assert set(stream_consumers()) == set(ACTS_ON) == set(NOISE)


@pytest.mark.parametrize("module", sorted(ACTS_ON))
def test_every_filter_uses_only_syntax_the_evaluator_understands(module: str) -> None:
    found = criteria(module)
    assert found, f"{module}: no FilterCriteria; if that is meant, say why in NOISE and drop this check"
    passes(found, {})  # raises UnsupportedPattern for any operator it cannot judge


def test_the_evaluator_refuses_what_it_does_not_know() -> None:
    unknown: list[dict[str, Any]] = [
        {"eventName": [{"anything-but": ["REMOVE"]}]},
        {"dynamodb": {"NewImage": {"turn_count": {"N": [{"numeric": [">", 0]}]}}}},
        {"eventName": "INSERT"},
        {"eventName": []},
    ]
    for pattern in unknown:
        with pytest.raises(UnsupportedPattern):
            matches(pattern, {"eventName": "INSERT"})
    assert matches({"a": {"b": ["x", {"prefix": "TURN#"}]}}, {"a": {"b": "TURN#1"}})
    assert not matches({"a": {"b": ["x"]}}, {"a": {}})
    assert matches({"a": ["x"]}, {"a": ["y", "x"]})  # an array matches when any element does


def lifecycle(traffic: Traffic) -> list[dict[str, Any]]:
    """Every record of a session's life: the conversation, the summaries the generator writes, the
    expiry of its META, and the deletes of the cleanup that follows."""
    records = list(traffic.records)
    assert summary_generator.handler(batch(records), None) == {"batchItemFailures": []}
    records += traffic.stream.read()
    removal, expiry = _expire_meta(traffic)
    assert session_cleanup.handler(batch([expiry]), None) == {"batchItemFailures": []}
    return [*records, removal, expiry, *traffic.stream.read()]


@pytest.mark.parametrize("module", sorted(ACTS_ON))
def test_records_the_consumer_acts_on_pass_its_filter_and_noise_does_not(
    traffic: Traffic, module: str
) -> None:
    records = lifecycle(traffic)
    assert {sort_key(r).partition("#")[0] for r in records} >= {"META", "TURN", "MSG", "SUMMARY", "HANDOFF"}
    assert {r["eventName"] for r in records} == {"INSERT", "MODIFY", "REMOVE"}
    acted = [r for r in records if ACTS_ON[module](r)]
    assert acted, f"the traffic gave {module} nothing to act on: the test would prove nothing"
    dropped = [(r["eventName"], sort_key(r)) for r in acted if not passes(criteria(module), r)]
    assert dropped == [], f"{module} needs these records, and its filter drops them"
    noise = [r for r in records if NOISE[module](r)]
    assert noise, "the traffic made no noise to check the filter against"
    leaked = {(r["eventName"], sort_key(r)) for r in noise if passes(criteria(module), r)}
    assert leaked == set(), f"{module}'s filter lets through records it exists to drop"


def test_summary_generator_makes_summaries_from_what_its_filter_delivers(traffic: Traffic) -> None:
    pattern = criteria("entrypoints.summary_generator")
    # What the template's earlier filter delivered (new turns only) makes no summary: the handler
    # reads META changes. Kept as the reason this test exists.
    turn_inserts = [r for r in traffic.records if r["eventName"] == "INSERT" and sort_key(r) != "META"]
    assert summary_generator.handler(batch(turn_inserts), None) == {"batchItemFailures": []}
    assert traffic.chat.repository.summaries(traffic.session_id) == []

    delivered = [r for r in traffic.records if passes(pattern, r)]
    assert summary_generator.handler(batch(delivered), None) == {"batchItemFailures": []}
    summaries = traffic.chat.repository.summaries(traffic.session_id)
    turn_count = traffic.chat.repository.get(traffic.session_id).turn_count
    assert summaries, "no summary was made from the records the filter lets through"
    assert max(s.turns_covered for s in summaries) == turn_count // EVERY * EVERY
    # Its own SUMMARY# writes must not wake it again.
    assert not [r for r in traffic.stream.read() if passes(pattern, r) and sort_key(r) != "META"]


def test_session_cleanup_removes_an_expired_session_from_its_stream_record(traffic: Traffic) -> None:
    pattern = criteria("entrypoints.session_cleanup")
    assert not [r for r in traffic.records if passes(pattern, r)], "no expiry happened yet"
    _, expiry = _expire_meta(traffic)
    assert passes(pattern, expiry)
    assert session_cleanup.handler(batch([expiry]), None) == {"batchItemFailures": []}
    assert traffic.partition() == []
    assert "conn-b" in traffic.chat.notifier.closed
    # Its own deletes (BatchWriteItem, by code) are no expiries: they never reach it.
    removals = traffic.stream.read()
    assert removals and all(r["eventName"] == "REMOVE" for r in removals)
    assert not [r for r in removals if passes(pattern, r)]


def test_the_hand_made_expiry_is_shaped_like_the_reference_event(traffic: Traffic) -> None:
    reference = load_event("ddb_stream_ttl_remove.json")["Records"][0]
    _, expiry = _expire_meta(traffic)
    assert expiry["userIdentity"] == reference["userIdentity"]
    assert set(reference) <= set(expiry) and set(reference["dynamodb"]) <= set(expiry["dynamodb"])


def test_the_reference_events_go_where_they_belong() -> None:
    cleanup, summary = criteria("entrypoints.session_cleanup"), criteria("entrypoints.summary_generator")
    expiry = load_event("ddb_stream_ttl_remove.json")["Records"][0]
    assert passes(cleanup, expiry) and not passes(summary, expiry)
    deleted_by_code = copy.deepcopy(expiry)
    del deleted_by_code["userIdentity"]
    assert not passes(cleanup, deleted_by_code)
    expired_turn = copy.deepcopy(expiry)
    expired_turn["dynamodb"]["Keys"]["SK"]["S"] = "TURN#0001"
    assert not passes(cleanup, expired_turn)
    turn = load_event("ddb_stream_turn_insert.json")["Records"][0]
    assert not passes(cleanup, turn) and not passes(summary, turn)


def _expire_meta(traffic: Traffic) -> tuple[dict[str, Any], dict[str, Any]]:
    """Delete the session's META as the TTL service would: that delete's stream record as moto gives
    it, and as the TTL service's own would read (with its identity, which moto cannot give)."""
    key = {"PK": {"S": f"SESSION#{traffic.session_id}"}, "SK": {"S": "META"}}
    if "Item" not in traffic.client.get_item(TableName=TABLE, Key=key):
        raise AssertionError("the META item is gone already")
    traffic.client.delete_item(TableName=TABLE, Key=key)
    (removal,) = [r for r in traffic.stream.read() if r["eventName"] == "REMOVE" and sort_key(r) == "META"]
    return removal, ttl_expiry(removal)
