"""What the limits add to a message on DynamoDB: calls, sequential round trips and write units, per
message, measured on the real handlers against a moto server with 10 ms of latency per call (as
``bench.message_path``), in four configurations. An item is the limits' when its key is one of
theirs (``CUSTOMER#`` counters, ``BUDGET#`` shards); a call is theirs when all its items are.

    python -m bench.limits [--messages 20]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
from collections.abc import Sequence
from typing import Any

from bench.figures import LIMITS_NEVER_HIT as NEVER
from bench.figures import Figures, Row
from bench.message_path import QUESTIONS, REGION, ROOT, TABLE

RESULTS = ROOT / "bench" / "results" / "limits.json"
VARIANTS: dict[str, tuple[dict[str, str], bool]] = {
    "limits off (all 0)": (
        {"CUSTOMER_MESSAGES_PER_MINUTE": "0", "CUSTOMER_DAILY_TOKENS": "0", "DAILY_TOKENS": "0"},
        True,
    ),
    "per-customer rate and budget (as by default)": ({**NEVER, "DAILY_TOKENS": "0"}, True),
    "... and the all-customers budget": ({**NEVER, "DAILY_TOKENS": str(10**15)}, True),
    "per-customer, no authorizer (AUTH_MODE=none)": ({**NEVER, "DAILY_TOKENS": "0"}, False),
}
LIMIT_PREFIXES = ("CUSTOMER#", "BUDGET#")


def items_of(call: Any) -> list[tuple[dict[str, Any], str]]:
    """(key, kind) of every item a call touches."""
    request = call.request
    if "TransactItems" in request:
        found = []
        for entry in request["TransactItems"]:
            kind, body = next(iter(entry.items()))
            found.append((body.get("Key") or {"PK": body["Item"]["PK"], "SK": body["Item"]["SK"]}, kind))
        return found
    if "RequestItems" in request:  # BatchGetItem
        return [(key, "Get") for table in request["RequestItems"].values() for key in table["Keys"]]
    if "Key" in request:
        return [(request["Key"], call.operation)]
    if "Item" in request:
        return [({k: request["Item"][k] for k in ("PK", "SK")}, call.operation)]
    return []  # a Query: the session's own items


def is_limits(key: dict[str, Any]) -> bool:
    return str(key["PK"]["S"]).startswith(LIMIT_PREFIXES)


def measure(messages: int, delay: float) -> dict[str, Any]:
    import boto3

    from adapters.dynamodb.item_size import item_size, write_units
    from adapters.dynamodb.table import table_definition
    from bench.message_path_run import moto_with_latency
    from bench.metering import CallLog, round_trips
    from testing.harness import Chat

    results: dict[str, Any] = {}
    with moto_with_latency(delay) as url:
        plain = boto3.client("dynamodb", endpoint_url=url, region_name=REGION)
        for number, (name, (limits, authorized)) in enumerate(VARIANTS.items()):
            table = f"{TABLE}-{number}"
            definition = {k: v for k, v in table_definition(table).items() if k != "StreamSpecification"}
            plain.create_table(**definition)

            def stored_size(key: dict[str, Any], table: str = table) -> int:
                found: Any = plain.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
                return item_size(found) if found else 0

            chat = Chat(env={"SESSION_STORE": "dynamodb", "SESSION_TABLE": table, **limits})
            chat.workers = None  # no Streams here: the message path alone, as bench.message_path
            log = CallLog(chat.container.adapters.dynamodb_client())
            customer = {"customer_id": "bench-customer", "principalId": "bench-customer"}
            samples = []
            with contextlib.redirect_stdout(io.StringIO()):
                if authorized:
                    chat.connect("benchLimits00=", authorizer=customer)
                else:
                    chat.connect("benchLimits00=", "bench-customer")
                for n in range(messages + 1):  # the first warms clients, connections and views up
                    log.take()
                    status = chat.say("benchLimits00=", QUESTIONS[n % 3].format(n=n), f"limits-{n}")
                    calls = log.take()
                    if status != 200:
                        raise RuntimeError(f"the handler answered {status}: {chat.last('benchLimits00=')}")
                    if n:
                        samples.append(_sample(calls, stored_size, round_trips, write_units))
            repository = chat.container.adapters.repository()
            chat.close()
            repository.close()
            results[name] = {key: statistics.median([s[key] for s in samples]) for key in samples[0]}
    return {"messages": messages, "delay_ms": delay * 1000, "variants": results}


def _sample(calls: list[Any], stored_size: Any, round_trips: Any, write_units: Any) -> dict[str, float]:
    wcu = limits_wcu = 0
    limits_calls = 0
    for call in calls:
        touched = items_of(call)
        if touched and all(is_limits(key) for key, _ in touched):
            limits_calls += 1
        if call.operation not in ("PutItem", "UpdateItem", "TransactWriteItems"):
            continue
        for key, _ in touched:
            units = write_units(stored_size(key), transactional=call.operation == "TransactWriteItems")
            wcu += units
            limits_wcu += units if is_limits(key) else 0
    return {
        "calls": len(calls),
        "round_trips": round_trips(calls),
        "wcu": wcu,
        "limits_calls": limits_calls,
        "limits_wcu": limits_wcu,
        "transaction_items": sum(len(c.request.get("TransactItems", [])) for c in calls),
    }


def table(report: dict[str, Any]) -> str:
    lines = [
        f"per message, median of {report['messages']} (moto server, {report['delay_ms']:g} ms a call)",
        f"{'':<48}{'calls':>6}{'trips':>6}{'WCU':>6}{'of which limits':>17}{'txn items':>10}",
    ]
    for name, v in report["variants"].items():
        own = f"{v['limits_wcu']:g} WCU, {v['limits_calls']:g} calls"
        lines.append(
            f"{name:<48}{v['calls']:>6g}{v['round_trips']:>6g}{v['wcu']:>6g}{own:>17}{v['transaction_items']:>10g}"
        )
    return "\n".join(lines)


QUICK = ("--messages", "2", "--delay-ms", "0")
DEFAULTS = "per-customer rate and budget (as by default)"
OFF, EVERYONE = "limits off (all 0)", "... and the all-customers budget"


def report(argv: Sequence[str]) -> Figures:
    parser = argparse.ArgumentParser(prog="python -m bench.limits", description=__doc__)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--delay-ms", type=float, default=10.0)
    args = parser.parse_args(argv)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        os.environ.setdefault(name, value)  # this process only talks to 127.0.0.1
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    measured = measure(args.messages, args.delay_ms / 1000)
    print(table(measured))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(measured, indent=2))
    variants = measured["variants"]
    authorized = [v for name, v in variants.items() if "no authorizer" not in name]
    if any(v["round_trips"] > 2 for v in authorized):  # the design, not a timing
        raise RuntimeError(f"the limits took a message past 2 round trips: {variants}")
    return {
        "calls": variants[DEFAULTS]["calls"],
        "round_trips": variants[DEFAULTS]["round_trips"],
        "wcu": variants[DEFAULTS]["wcu"],
        "limits_wcu": variants[DEFAULTS]["limits_wcu"],
        "off_calls": variants[OFF]["calls"],
        "off_round_trips": variants[OFF]["round_trips"],
        "off_wcu": variants[OFF]["wcu"],
        "everyone_calls": variants[EVERYONE]["calls"],
        "everyone_round_trips": variants[EVERYONE]["round_trips"],
    }


def rows(figures: Figures) -> list[Row]:
    return [
        (
            "limits (rate, customer budget) on the message path",
            f"{figures['calls']:g} calls, {figures['round_trips']:g} round trips, {figures['wcu']:g} WCU "
            f"(the limits' {figures['limits_wcu']:g})",
            f"limits off {figures['off_calls']:g} calls, {figures['off_round_trips']:g} round trips, "
            f"{figures['off_wcu']:g} WCU; with DAILY_TOKENS {figures['everyone_calls']:g} calls, "
            f"{figures['everyone_round_trips']:g} round trips",
        )
    ]


def main(argv: Sequence[str] | None = None) -> int:
    report(sys.argv[1:] if argv is None else argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
