"""Every customer's model tokens of a UTC day (``DAILY_TOKENS``), counted without a hot key.

One counter item for the whole service would take a write from every reply: past ~500 replies a
second it would pass the 1,000 write units a second one partition serves, and in transactions every
pair of concurrent replies would cancel each other (``TransactionConflict``). So the count is spread
over ``BUDGET_SHARDS`` items, ``PK = BUDGET#<day>#<shard>``, each in its own partition:

- a reply adds its tokens to one shard picked at random, with a plain ``UpdateItem`` (``ADD``), in
  parallel with the reply's transaction: no transaction ever holds a shard, one write unit;
- a message is checked against this process's view of the day's total, the sum of the shards read
  with one eventually consistent ``BatchGetItem``. The view is refreshed in parallel with the
  message's own writes once it is ``REFRESH`` old, so the check adds no round trip; only a process's
  first message of a day reads it first.

At 1,000 messages a second: 1,000 write units a second over 16 shards, about 63 per shard (6% of a
partition's ceiling), so 16 shards carry ~15,000 messages a second; more shards only cost a few more
read units per refresh. Reads: each warm Lambda refreshes at most every 5 s, 16 items of 0.5 read unit.

The price of not checking inside a transaction: the budget stops messages within ``REFRESH`` of its
being spent (plus the replies in flight then), not at the exact token. That is seconds of traffic:
at any budget that lasts hours, well under 1% over; ``docs/PROTOCOL.md`` says so. A shard's write
retried by botocore after a lost answer may count a reply twice: the error is on the safe side.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from adapters.dynamodb.converter import value
from adapters.dynamodb.counters import usage_ttl
from adapters.dynamodb.errors import translated
from adapters.dynamodb.layout import PK, SK, TTL_ATTRIBUTE, Item
from domain.limits import Charge

log = logging.getLogger(__name__)

BUDGET_PREFIX = "BUDGET#"
BUDGET_SK = "TOTAL"
BUDGET_SHARDS = 16
REFRESH = timedelta(seconds=5)
READ_ATTEMPTS = 3  # BatchGetItem may leave keys unprocessed under load: ask again for those


def shard_key(day: str, shard: int) -> Item:
    return {PK: {"S": f"{BUDGET_PREFIX}{day}#{shard:02d}"}, SK: {"S": BUDGET_SK}}


class AllCustomersBudget:
    def __init__(
        self,
        client: Any,
        table: str,
        shards: int = BUDGET_SHARDS,
        refresh: timedelta = REFRESH,
        pick: Callable[[int], int] = random.randrange,
    ) -> None:
        self._client = client
        self._table = table
        self.shards = shards
        self._refresh = refresh
        self._pick = pick
        self._lock = threading.Lock()
        self._views: dict[str, tuple[int, datetime]] = {}  # day -> (tokens, when read)

    def view(self, day: str) -> int | None:
        """This process's latest reading of the day's total; ``None`` before its first."""
        with self._lock:
            seen = self._views.get(day)
        return None if seen is None else seen[0]

    def stale(self, day: str, now: datetime) -> bool:
        with self._lock:
            seen = self._views.get(day)
        return seen is None or now - seen[1] >= self._refresh

    def read(self, day: str, now: datetime) -> int:
        """Sum the day's shards and remember it as this process's view (a newer reading wins)."""
        total = self.total(day)
        with self._lock:
            known = self._views.get(day)
            if known is None or known[1] <= now:
                self._views = {day: (total, now)}  # older days are done with
        return total

    def total(self, day: str) -> int:
        """The sum of the day's shards, eventually consistent."""
        keys = [shard_key(day, shard) for shard in range(self.shards)]
        total = 0
        for _ in range(READ_ATTEMPTS):
            with translated("BatchGetItem"):
                answer = self._client.batch_get_item(
                    RequestItems={self._table: {"Keys": keys, "ProjectionExpression": "tokens"}}
                )
            total += sum(int(item["tokens"]["N"]) for item in answer["Responses"].get(self._table, []))
            keys = answer.get("UnprocessedKeys", {}).get(self._table, {}).get("Keys", [])
            if not keys:
                break
        else:
            log.warning("the budget's shards stayed unprocessed; the view counts what was read")
        return total

    def charge(self, charge: Charge) -> None:
        """Add a reply's tokens to one shard of its day, and to this process's view at once: its own
        spending it never sees late."""
        if not charge.tokens:
            return
        with translated("UpdateItem"):
            self._client.update_item(
                TableName=self._table,
                Key=shard_key(charge.day, self._pick(self.shards)),
                UpdateExpression="ADD #tokens :tokens SET #ttl = :ttl",
                ExpressionAttributeNames={"#tokens": "tokens", "#ttl": TTL_ATTRIBUTE},
                ExpressionAttributeValues={
                    ":tokens": value(charge.tokens),
                    ":ttl": value(usage_ttl(charge.day)),
                },
            )
        with self._lock:
            seen = self._views.get(charge.day)
            if seen is not None:
                self._views[charge.day] = (seen[0] + charge.tokens, seen[1])
