"""The measurement of ``bench.message_path``: one moto server with latency, our handlers on one table,
the original design's calls on another, alternating message by message."""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from bench.message_path import BASELINE_TABLE, CONNECTION, QUESTIONS, REGION, ROOT, TABLE

Sample = dict[str, Any]


@contextlib.contextmanager
def moto_with_latency(delay: float) -> Iterator[str]:
    """A moto server in a process of its own: its work must not take the GIL from the handler being
    timed (DynamoDB does not run inside our Lambda either). It stops when its stdin closes."""
    code = (
        "import sys\n"
        "from testing.aws import LocalMotoServer\n"
        "server = LocalMotoServer(delay=float(sys.argv[1]))\n"
        "server.start()\n"
        "print(server.url, flush=True)\n"
        "sys.stdin.read()\n"
        "server.stop()\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(delay)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    url = process.stdout.readline().strip()
    previous = os.environ.get("AWS_ENDPOINT_URL")
    os.environ["AWS_ENDPOINT_URL"] = url  # how our container's client finds it, as in a local run
    try:
        yield url
    finally:
        process.stdin.close()
        process.wait(timeout=30)
        if previous is None:
            os.environ.pop("AWS_ENDPOINT_URL", None)
        else:
            os.environ["AWS_ENDPOINT_URL"] = previous


def trim(client: Any, table: str, keep_turns: int = 24) -> None:
    """Between rounds, outside any timing: delete all but the newest turns (the prompt window reads
    21) and the answered message records. moto copies a whole table for every transaction, so a table
    that grew through the run would bill our transactions for moto's copying, not DynamoDB's work."""
    pages = client.get_paginator("scan").paginate(TableName=table, ProjectionExpression="PK, SK")
    keys = sorted(((i["PK"]["S"], i["SK"]["S"]) for page in pages for i in page["Items"]), reverse=True)
    seen: dict[str, int] = {}
    doomed = []
    for pk, sk in keys:
        if sk.startswith("TURN#"):
            seen[pk] = seen.get(pk, 0) + 1
            if seen[pk] > keep_turns:
                doomed.append((pk, sk))
        elif sk.startswith("MSG#"):
            doomed.append((pk, sk))
    for start in range(0, len(doomed), 25):
        batch = [
            {"DeleteRequest": {"Key": {"PK": {"S": pk}, "SK": {"S": sk}}}}
            for pk, sk in doomed[start : start + 25]
        ]
        client.batch_write_item(RequestItems={table: batch})


def measure(messages: int, delay: float, original: Callable[..., None]) -> dict[str, Any]:
    import boto3

    from adapters.dynamodb.item_size import item_size
    from adapters.dynamodb.table import table_definition
    from bench.metering import CallLog, capacity, round_trips
    from testing.harness import Chat

    with moto_with_latency(delay) as url:
        plain = boto3.client("dynamodb", endpoint_url=url, region_name=REGION)  # setup and read-back only
        for name in (TABLE, BASELINE_TABLE):
            # Without Streams: moto keeps every stream record in the table and copies them all for
            # every transaction, a cost that grows through the run and that DynamoDB never charges.
            definition = {k: v for k, v in table_definition(name).items() if k != "StreamSpecification"}
            plain.create_table(**definition)
        plain.put_item(
            TableName=BASELINE_TABLE,
            Item={"PK": {"S": "SESSION#original"}, "SK": {"S": "META"}, "turn_count": {"N": "0"}},
        )
        baseline = boto3.client("dynamodb", endpoint_url=url, region_name=REGION)
        chat = Chat(env={"SESSION_STORE": "dynamodb", "SESSION_TABLE": TABLE}, asynchronous=False)
        ours_log, baseline_log = CallLog(chat.container.adapters.dynamodb_client()), CallLog(baseline)

        def stored_size(table: str, key: dict[str, Any]) -> int:
            found: Any = plain.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
            return item_size(found) if found else 0

        def sample(started: float, calls: list[Any]) -> Sample:
            return {
                "ms": (time.perf_counter() - started) * 1000,
                "calls": len(calls),
                "round_trips": round_trips(calls),
                "capacity": capacity(calls, stored_size),
            }

        reply = ""

        def ours(n: int, cached: bool) -> Sample:
            nonlocal reply
            if not cached:  # as in a container whose $default has not seen this connection yet
                chat.repository.connections.forget(CONNECTION)
            ours_log.take()
            started = time.perf_counter()
            status = chat.say(CONNECTION, QUESTIONS[n % 3].format(n=n), f"bench-{n}-{cached}")
            taken = sample(started, ours_log.take())
            if status != 200:
                raise RuntimeError(f"our handler answered {status}: {chat.last(CONNECTION)}")
            reply = chat.last(CONNECTION)["content"]
            return taken

        def the_original(n: int) -> Sample:
            baseline_log.take()
            started = time.perf_counter()
            original(baseline, "original", QUESTIONS[n % 3].format(n=n), reply, n)
            return sample(started, baseline_log.take())

        runs: dict[str, Callable[[int], Sample]] = {
            "ours": lambda n: ours(n, cached=True),
            "ours_uncached": lambda n: ours(n, cached=False),
            "original": the_original,
        }
        samples: dict[str, list[Sample]] = {name: [] for name in runs}
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # the handlers' metric lines
                # As deployed, an authorizer names the customer: on every frame, not only on $connect.
                vouched = {"customer_id": "bench-customer", "principalId": "bench-customer"}
                chat.connect(CONNECTION, authorizer=vouched)
                for n in range(messages + 1):  # the first round warms clients and connections up
                    order = list(runs) if n % 2 else list(reversed(runs))
                    for name in order:
                        taken = runs[name](n)
                        if n:
                            samples[name].append(taken)
                    for name in (TABLE, BASELINE_TABLE):
                        trim(plain, name)
        finally:
            repository = chat.container.adapters.repository()
            chat.close()
            repository.close()
    return {"messages": messages, "paths": {name: summary(found) for name, found in samples.items()}}


def summary(samples: list[Sample]) -> dict[str, Any]:
    return {
        "median_ms": round(statistics.median(s["ms"] for s in samples), 1),
        "p90_ms": round(statistics.quantiles([s["ms"] for s in samples], n=10)[-1], 1),
        "calls": statistics.mode(s["calls"] for s in samples),
        "round_trips": statistics.mode(s["round_trips"] for s in samples),
        "rcu": statistics.median(s["capacity"].rcu for s in samples),
        "wcu": statistics.median(s["capacity"].wcu for s in samples),
        "gsi_wcu": statistics.median(s["capacity"].gsi_wcu for s in samples),
    }
