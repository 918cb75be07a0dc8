"""The table's DynamoDB Streams records as moto's ``get_records`` gives them, reshaped the way Lambda's
event source mapping delivers them: ``eventSourceARN`` added, the creation time in epoch seconds and
binary values base64-encoded (Lambda sends JSON), in ``{"Records": [...]}`` batches."""

from __future__ import annotations

import base64
import copy
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import boto3

# What the TTL service writes on the records of the deletes it makes (and nobody else can).
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


class TableStream:
    """Reads a table's stream from where the last read stopped, shard by shard.

    A fresh iterator is asked for at each read, after the last sequence number seen: moto puts a copy
    of the table back when a transaction is cancelled, and an iterator kept from before then reads the
    old copy's shard, which nothing is written to any more."""

    def __init__(self, dynamodb: Any, table: str, region: str = "us-east-1") -> None:
        self.arn: str = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        self._streams = boto3.client("dynamodbstreams", region_name=region)
        self._last_seen: dict[str, str] = {}

    def read(self) -> list[dict[str, Any]]:
        """Every record written since the previous ``read`` (from the start, the first time)."""
        shards = self._streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        records: list[dict[str, Any]] = []
        for shard in shards:
            shard_id = shard["ShardId"]
            after = self._last_seen.get(shard_id)
            position: dict[str, Any] = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
                if after
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            iterator = self._streams.get_shard_iterator(StreamArn=self.arn, ShardId=shard_id, **position)
            next_iterator: str | None = iterator["ShardIterator"]
            while next_iterator is not None:
                page = self._streams.get_records(ShardIterator=next_iterator)
                next_iterator = page.get("NextShardIterator")
                if not page["Records"]:
                    break
                records.extend(as_delivered(r, self.arn) for r in page["Records"])
                self._last_seen[shard_id] = page["Records"][-1]["dynamodb"]["SequenceNumber"]
        return records


def as_delivered(record: Any, stream_arn: str) -> dict[str, Any]:
    """One ``get_records`` record as it reaches the function."""
    delivered = _jsonable(copy.deepcopy(record))
    delivered["eventSourceARN"] = stream_arn
    return delivered  # type: ignore[no-any-return]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        return int(value.timestamp())
    return value


def ttl_expiry(removal: dict[str, Any]) -> dict[str, Any]:
    """The record of a delete, as it reads when the TTL service made it (moto never expires items)."""
    assert removal["eventName"] == "REMOVE", removal["eventName"]
    expired = copy.deepcopy(removal)
    expired["userIdentity"] = dict(TTL_IDENTITY)
    return expired


def batch(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": list(records)}


def sort_key(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["Keys"]["SK"]["S"])
