"""Metering a boto3 DynamoDB client (for ``bench.capacity`` and ``bench.message_path``): every call with its
request and its answer; from those, the sequential round trips and the capacity units by DynamoDB's rules."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from typing import Any

from attrs import frozen

from adapters.dynamodb.item_size import item_size, read_units, write_units


@frozen
class Call:
    operation: str
    start: float
    end: float
    request: dict[str, Any]
    answer: dict[str, Any]


class CallLog:
    """Registers on the client's own events, so it sees exactly what leaves and comes back."""

    def __init__(self, client: Any) -> None:
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        client.meta.events.register("before-call.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)

    def _before(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["bench_start"] = time.perf_counter()
        context["bench_request"] = json.loads(params.get("body") or b"{}")

    def _after(self, model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        call = Call(model.name, context["bench_start"], time.perf_counter(), context["bench_request"], parsed)
        with self._lock:
            self._calls.append(call)

    def take(self) -> list[Call]:
        with self._lock:
            calls, self._calls = self._calls, []
        return calls


def round_trips(calls: Iterable[Call]) -> int:
    """Waves of calls: a wave starts with a call that starts after every earlier call has ended."""
    waves, frontier = 0, float("-inf")
    for call in sorted(calls, key=lambda c: c.start):
        if call.start >= frontier:
            waves += 1
            frontier = call.end
        else:
            frontier = max(frontier, call.end)
    return waves


READS = ("Query", "GetItem")
WRITES = ("PutItem", "UpdateItem", "TransactWriteItems")


@frozen
class Capacity:
    rcu: float
    wcu: int
    gsi_wcu: int


def capacity(calls: Iterable[Call], stored_size: Any) -> Capacity:
    """Read units from the items each read returned; write units from the size of each item written,
    as stored (``stored_size(table, key)`` reads it back after the message, outside any timing). A META
    write also rewrites its connection-index entry (projection ALL): counted apart as GSI units."""
    rcu, wcu, gsi = 0.0, 0, 0
    for call in calls:
        if call.operation not in READS + WRITES:
            continue  # the control plane (DescribeTable for a stream reader, say) costs no units
        if call.operation in READS:
            items = call.answer.get("Items") or ([call.answer["Item"]] if call.answer.get("Item") else [])
            rcu += read_units([item_size(i) for i in items], bool(call.request.get("ConsistentRead")))
            continue
        writes = [next(iter(i.values())) for i in call.request.get("TransactItems", [])] or [call.request]
        for write in writes:
            keys = write.get("Key") or {"PK": write["Item"]["PK"], "SK": write["Item"]["SK"]}
            size = stored_size(write["TableName"], keys)
            wcu += write_units(size, transactional=call.operation == "TransactWriteItems")
            if keys["SK"]["S"] == "META":
                gsi += write_units(size)
    return Capacity(rcu, wcu, gsi)
