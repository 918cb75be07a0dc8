"""DynamoDB Streams and the TTL service, played locally against a table at an endpoint (moto): the
records the table's stream really holds are read with ``get_records`` and handed to the deployed
``summary_generator`` and ``session_cleanup`` handlers in Lambda's event shape, as the event source
mappings would. Local stores have no TTL service; ``sweep`` plays it: it deletes the META items past
their ``ttl`` and marks their ``REMOVE`` records as the service's, so cleanup sees true expiries only.

Used by ``manga-assist serve --store dynamodb`` and by the tests that run the features on DynamoDB."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from types import SimpleNamespace
from typing import Any

from adapters.dynamodb.layout import META, SK, TTL_ATTRIBUTE
from entrypoints import session_cleanup, summary_generator
from entrypoints.worker_backoff import Backoff

log = logging.getLogger(__name__)

TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
# Each consumer with the name its function has in the template (for the logs).
CONSUMERS = (
    (summary_generator.handler, "manga-assist-summary-generator"),
    (session_cleanup.handler, "manga-assist-session-cleanup"),
)


class StreamWorkers:
    def __init__(self, dynamodb: Any, streams: Any, table: str, region: str, clock: Any) -> None:
        self._dynamodb = dynamodb
        self._streams = streams
        self._table = table
        self._region = region
        self._clock = clock
        self._last_sequence: dict[str, str] = {}
        self._expired_keys: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failures: list[dict[str, Any]] = []

    def drain(self) -> int:
        """Deliver every record written since the last call; the number delivered."""
        with self._lock:
            records = self._read()
            if records:
                event = {"Records": [self._as_lambda_record(r) for r in records]}
                for consumer, name in CONSUMERS:
                    context = SimpleNamespace(function_name=name, aws_request_id=str(uuid.uuid4()))
                    response = consumer(event, context)
                    self.failures.extend(response.get("batchItemFailures", []))
            return len(records)

    def sweep(self) -> int:
        """Play the TTL service: delete every META whose ``ttl`` has passed."""
        now = f"{self._clock.now().timestamp():.6f}"  # the service deletes once now > ttl
        expired = []
        paginator = self._dynamodb.get_paginator("scan")
        for page in paginator.paginate(
            TableName=self._table,
            FilterExpression="#sk = :meta AND #ttl < :now",
            ExpressionAttributeNames={"#sk": SK, "#ttl": TTL_ATTRIBUTE},
            ExpressionAttributeValues={":meta": {"S": META}, ":now": {"N": now}},
        ):
            expired.extend(page.get("Items", []))
        for item in expired:
            key = {"PK": item["PK"], "SK": item["SK"]}
            with self._lock:
                self._expired_keys.add((item["PK"]["S"], item["SK"]["S"]))
            self._dynamodb.delete_item(TableName=self._table, Key=key)
        return len(expired)

    def _read(self) -> list[dict[str, Any]]:
        arn = self._dynamodb.describe_table(TableName=self._table)["Table"]["LatestStreamArn"]
        shards = self._streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        records: list[dict[str, Any]] = []
        for shard in shards:
            shard_id = shard["ShardId"]
            # A fresh iterator after the last record seen, every time: moto puts back a copy of the
            # table when it cancels a transaction, and an iterator kept across that reads a stale shard.
            last = self._last_sequence.get(shard_id)
            where = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last}
                if last
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            iterator = self._streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, **where)[
                "ShardIterator"
            ]
            while iterator:
                page = self._streams.get_records(ShardIterator=iterator, Limit=1000)
                if not page["Records"]:
                    break
                records.extend(page["Records"])
                self._last_sequence[shard_id] = page["Records"][-1]["dynamodb"]["SequenceNumber"]
                iterator = page.get("NextShardIterator")
        self._stream_arn = arn
        return records

    def _as_lambda_record(self, record: dict[str, Any]) -> dict[str, Any]:
        """``get_records`` gives what Lambda passes on, in the same shape; Lambda adds the source."""
        shaped = dict(record)
        shaped["eventSourceARN"] = self._stream_arn
        shaped.setdefault("awsRegion", self._region)
        keys = record.get("dynamodb", {}).get("Keys", {})
        key = (keys.get("PK", {}).get("S", ""), keys.get("SK", {}).get("S", ""))
        if record.get("eventName") == "REMOVE" and key in self._expired_keys:
            shaped["userIdentity"] = TTL_IDENTITY
            self._expired_keys.discard(key)
        return shaped

    def start(self, interval: float = 0.5, sweep_every: float = 30.0) -> None:
        def run() -> None:
            last_sweep = time.monotonic()
            backoff = Backoff("stream workers", log, interval)
            while not self._stop.wait(backoff.wait):
                try:
                    if time.monotonic() - last_sweep >= sweep_every:
                        last_sweep = time.monotonic()
                        self.sweep()
                    self.drain()
                except Exception as error:  # the endpoint stopped, the table is gone
                    backoff.failed(error)
                    continue
                backoff.succeeded()

        self._thread = threading.Thread(target=run, name="stream-workers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
