"""Message path on DynamoDB: per new message, the DynamoDB calls, the sequential round trips, the
wall time and the capacity of our handler path, against a plain-boto3 baseline making the original
design's five sequential calls (Query, Query, PutItem, PutItem, UpdateItem), in one run, alternating.

Latency: moto runs behind a local HTTP server (``testing.aws.LocalMotoServer``) that sleeps a fixed
delay (10 ms: DynamoDB's round trip from a Lambda in the same region) before handling each request.
The sleep is on the server's request thread, before moto's lock, so calls made in parallel wait in
parallel, as they do across a network; a client-side ``before-send`` sleep would do the same, but
would also hold botocore's connection from the pool. The model is the fake one at zero latency.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import zlib
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.figures import TIMES, Figures, Row

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "message_path.json"
TABLE, BASELINE_TABLE, REGION = "bench-sessions", "bench-original", "us-east-1"
CONNECTION = "benchConn000="
ORIGINAL = {"rcu": 2.0, "wcu": 3}  # the original design's own account of a message
QUESTIONS = (
    "Is volume {n} of Frieren in stock?",
    "When will my order #{n} ship?",
    "Can you recommend {n} series?",
)


def original_design(client: Any, session_id: str, question: str, reply: str, n: int) -> None:
    """The original design's message, as it made it: five calls, one after the other."""
    pk = {"S": f"SESSION#{session_id}"}
    now = Decimal(int(time.time() * 1000)) / 1000
    client.query(
        TableName=BASELINE_TABLE,
        KeyConditionExpression="PK = :pk AND SK = :meta",
        ExpressionAttributeValues={":pk": pk, ":meta": {"S": "META"}},
        ConsistentRead=True,
    )
    client.query(
        TableName=BASELINE_TABLE,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :turn)",
        ExpressionAttributeValues={":pk": pk, ":turn": {"S": "TURN#"}},
        ScanIndexForward=False,
        Limit=20,
        ConsistentRead=True,
    )
    for offset, (role, text) in enumerate((("user", question), ("assistant", reply))):
        client.put_item(
            TableName=BASELINE_TABLE,
            Item={
                "PK": pk,
                "SK": {"S": f"TURN#{int(now * 1000) + offset:013d}{n:04d}"},
                "role": {"S": role},
                "content_compressed": {"B": zlib.compress(text.encode())},
                "token_count": {"N": str(len(text) // 4)},
                "created_at": {"N": str(now)},
                "ttl": {"N": str(int(now) + 86400)},
            },
        )
    client.update_item(
        TableName=BASELINE_TABLE,
        Key={"PK": pk, "SK": {"S": "META"}},
        UpdateExpression="SET turn_count = turn_count + :two, updated_at = :now, #ttl = :ttl",
        ExpressionAttributeNames={"#ttl": "ttl"},
        ExpressionAttributeValues={
            ":two": {"N": "2"},
            ":now": {"N": str(now)},
            ":ttl": {"N": str(int(now) + 86400)},
        },
    )


def client_creation_ms(rounds: int = 5) -> float:
    """What a cold container pays before its first call: a DynamoDB client in a fresh botocore session."""
    import boto3

    from adapters.dynamodb.errors import client_config

    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        boto3.session.Session().client("dynamodb", region_name=REGION, config=client_config())
        timings.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(timings), 1)


def memory_handler_ms(messages: int = 40) -> float:
    """Our handler's own work per message, with no DynamoDB at all (the in-memory store)."""
    import contextlib
    import io

    from testing.harness import Chat

    chat = Chat()
    timings = []
    with contextlib.redirect_stdout(io.StringIO()):
        chat.connect(CONNECTION, "bench-customer")
        for n in range(messages + 1):
            started = time.perf_counter()
            chat.say(CONNECTION, QUESTIONS[n % 3].format(n=n), f"memory-{n}")
            timings.append((time.perf_counter() - started) * 1000)
    chat.close()
    return round(statistics.median(timings[1:]), 1)


QUICK = ("--messages", "2", "--delay-ms", "0", "--no-write")


def report(argv: Sequence[str]) -> Figures:
    parser = argparse.ArgumentParser(prog="python -m bench.message_path", description=__doc__)
    parser.add_argument("--messages", type=int, default=40, help="messages measured per path (default 40)")
    parser.add_argument("--delay-ms", type=float, default=10.0, help="latency before each DynamoDB call")
    parser.add_argument("--no-write", action="store_true", help="leave BENCHMARKS.md as it is")
    args = parser.parse_args(argv)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        os.environ.setdefault(name, value)  # this process only talks to 127.0.0.1
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

    from bench.message_path_report import table, write_section
    from bench.message_path_run import measure

    measured = measure(args.messages, args.delay_ms / 1000, original_design)
    # The same paths with no added latency: moto's work and ours only, what the delay sits on top of.
    floor = measure(max(2, args.messages // 2), 0.0, original_design)
    measured["floor_ms"] = {name: path["median_ms"] for name, path in floor["paths"].items()}
    measured["memory_handler_ms"] = memory_handler_ms(args.messages)
    measured["client_creation_ms"] = client_creation_ms()
    measured["delay_ms"] = args.delay_ms
    measured["original_claim"] = ORIGINAL
    print(table(measured))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(measured, indent=2))
    if not args.no_write:
        write_section(measured)
    ours, original = measured["paths"]["ours"], measured["paths"]["original"]
    if ours["calls"] > 4 or ours["round_trips"] > 2:  # the design, not a timing
        raise RuntimeError(f"a message took {ours['calls']} calls in {ours['round_trips']} round trips")
    return {
        "calls": ours["calls"],
        "round_trips": ours["round_trips"],
        "ours_ms": ours["median_ms"],
        "original_calls": original["calls"],
        "original_round_trips": original["round_trips"],
        "original_ms": original["median_ms"],
        "ratio": ours["median_ms"] / original["median_ms"],
        "delay_ms": args.delay_ms,
    }


def rows(figures: Figures) -> list[Row]:
    return [
        (
            f"message path on DynamoDB ({figures['delay_ms']:g} ms a round trip)",
            f"{figures['calls']:g} calls, {figures['round_trips']:g} round trips, "
            f"{figures['ours_ms']:.0f} ms",
            f"original design {figures['original_calls']:g} calls, {figures['original_round_trips']:g} "
            f"round trips, {figures['original_ms']:.0f} ms: **{figures['ratio']:.2f}{TIMES}**",
        )
    ]


def main(argv: Sequence[str] | None = None) -> int:
    report(sys.argv[1:] if argv is None else argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
