"""DynamoDB read and write units, and the monthly on-demand bill, for a message rate, measured rather
than assumed: ``python -m bench.capacity [--messages-per-second N] [--avg-message-chars C]``, also
``manga-assist capacity`` (a thin command in front of this module).

The real message path runs in this process against moto (the dev extra): a conversation is warmed
up to a full prompt window, then messages of the given size are sent through the deployed handlers,
with the summary generator fed from the table's stream. Every DynamoDB call is metered from the
requests and answers themselves (``bench.metering``): read units from the items returned
(4 KB units, halved when eventually consistent), write units from the stored size of each item written
(1 KB units, doubled in a transaction), plus the connection index's rewrites. Beside it, the original
design's own account: 2 RCU + 3 WCU per message.

To price more of the bill (Lambda, API Gateway, the model), add a measurement beside ``measure`` that
returns per-message figures, and a ``side`` of ``plan`` that prices them: the report is a dict,
rendered by ``render`` and printed as is by ``--json``."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
from collections.abc import Sequence
from typing import Any
from unittest import mock

from bench.figures import Figures, Row

ORIGINAL_RCU, ORIGINAL_WCU = 2.0, 3.0
SECONDS_PER_MONTH = 30 * 24 * 3600
# On-demand prices, us-east-1, per million request units (Nov 2024 onward); override per region.
PRICE_WRITE, PRICE_READ = 0.625, 0.125


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--messages-per-second", type=float, default=100.0, metavar="N")
    parser.add_argument("--avg-message-chars", type=int, default=200, metavar="C")
    parser.add_argument("--avg-reply-chars", type=int, default=600, metavar="R")
    parser.add_argument("--sample", type=int, default=20, help="messages measured (default 20)")
    parser.add_argument("--price-per-million-writes", type=float, default=PRICE_WRITE)
    parser.add_argument("--price-per-million-reads", type=float, default=PRICE_READ)
    parser.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    """``manga-assist capacity``."""
    figures(args)
    return 0


def figures(args: argparse.Namespace) -> Figures:
    per_message = measure(args.avg_message_chars, args.avg_reply_chars, args.sample)
    report = plan(
        per_message, args.messages_per_second, args.price_per_million_reads, args.price_per_million_writes
    )
    print(json.dumps(report, indent=2) if args.json else render(report))
    ours = report["ours"]
    return {
        "messages_per_second": args.messages_per_second,
        "rcu": ours["rcu_per_message"],
        "wcu": ours["wcu_per_message"],
        "index_wcu": ours["of_which_index_wcu"],
        "calls": ours["dynamodb_calls_per_message"],
        "monthly_usd": ours["monthly_on_demand_usd"],
        "original_rcu": ORIGINAL_RCU,
        "original_wcu": ORIGINAL_WCU,
    }


QUICK = ("--sample", "2")


def report(argv: Sequence[str]) -> Figures:
    parser = argparse.ArgumentParser(prog="python -m bench.capacity", description=__doc__)
    add_arguments(parser)
    return figures(parser.parse_args(argv))


def rows(found: Figures) -> list[Row]:
    return [
        (
            f"DynamoDB capacity per message (at {found['messages_per_second']:g} messages/s)",
            f"{found['rcu']:.1f} RCU, {found['wcu']:.1f} WCU (incl. {found['index_wcu']:g} index WCU)",
            f"original's account {found['original_rcu']:g} RCU + {found['original_wcu']:g} WCU",
        )
    ]


def measure(message_chars: int, reply_chars: int, sample: int) -> dict[str, float]:
    from moto import mock_aws

    from adapters.dynamodb.item_size import item_size
    from bench.metering import CallLog, capacity

    # moto in this process, whatever endpoint the shell points at; its streams need this mode.
    moto_environment = {
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "AWS_ENDPOINT_URL": "",
        "AWS_ENDPOINT_URL_DYNAMODB": "",
    }
    with (
        mock.patch.dict(os.environ, moto_environment),
        mock_aws(),
        contextlib.redirect_stdout(io.StringIO()),
    ):
        driver = _Driver(reply_chars)
        log = CallLog(driver.client)
        window = driver.container.config.max_context_turns() // 2 + 1
        words = _Words()
        for n in range(window):  # a full prompt window first, as in a conversation under way
            driver.say(words.text(message_chars), f"warm-{n}")
        log.take()
        for n in range(sample):
            driver.say(words.text(message_chars), f"m-{n}")
        calls = log.take()

        def stored_size(table: str, key: dict[str, Any]) -> int:
            found = driver.client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
            return item_size(found) if found else 0

        used = capacity(calls, stored_size)
        driver.close()
    return {
        "calls": len(calls) / sample,
        "rcu": used.rcu / sample,
        "wcu": used.wcu / sample,
        "gsi_wcu": used.gsi_wcu / sample,
    }


class _Words:
    """Text that compresses about as customers' messages do (turns are stored zlib-compressed)."""

    VOCABULARY = [
        "is",
        "volume",
        "three",
        "of",
        "frieren",
        "in",
        "stock",
        "when",
        "will",
        "my",
        "order",
        "ship",
        "can",
        "I",
        "return",
        "a",
        "damaged",
        "copy",
        "do",
        "you",
        "have",
        "the",
        "box",
        "set",
        "of",
        "one",
        "piece",
        "what",
        "do",
        "you",
        "recommend",
        "after",
        "dungeon",
        "meshi",
        "thanks",
        "hello",
        "please",
        "help",
        "me",
        "find",
        "blue",
        "period",
        "chainsaw",
        "man",
        "spy",
        "family",
        "berserk",
        "vinland",
        "saga",
        "price",
    ]

    def __init__(self) -> None:
        import random

        self._random = random.Random(7)

    def text(self, chars: int) -> str:
        words: list[str] = []
        while sum(len(w) + 1 for w in words) < chars:
            words.append(self._random.choice(self.VOCABULARY))
        return " ".join(words)[:chars]


class _Driver:
    """The deployed handlers on an in-process table, with the fake model and a recording push."""

    table = "manga-assist-capacity"

    def __init__(self, reply_chars: int) -> None:
        from dependency_injector import providers

        from adapters.dynamodb.table import create_table
        from adapters.fake_llm import FakeLanguageModel
        from entrypoints.container import build_container, set_container
        from entrypoints.local.streams import StreamWorkers
        from testing.notifier import RecordingNotifier

        env = {
            "SESSION_STORE": "dynamodb",
            "SESSION_TABLE": self.table,
            "AWS_DEFAULT_REGION": "us-east-1",
            # The per-customer limits on, as deployed (their checks cost what they cost), set far
            # above what one sampling customer sends in a burst, so that none refuses.
            "CUSTOMER_MESSAGES_PER_MINUTE": str(10**9),
            "CUSTOMER_DAILY_TOKENS": str(10**12),
        }
        self.container = build_container(env)
        self.container.config.set("websocket_callback_url", "http://capacity.local")
        self.container.adapters.llm.override(
            providers.Object(FakeLanguageModel(reply_words=max(1, reply_chars // 6)))
        )
        self.container.adapters.notifier.override(providers.Object(RecordingNotifier()))
        set_container(self.container)
        self.client = self.container.adapters.dynamodb_client()
        create_table(self.client, self.table)
        streams = self.container.adapters.boto_session().client("dynamodbstreams", region_name="us-east-1")
        self.workers = StreamWorkers(
            self.client, streams, self.table, "us-east-1", self.container.adapters.clock()
        )
        self._facts = _facts()
        from entrypoints import connect

        status = connect.handler(_connect_event(self._facts), None)["statusCode"]
        if status != 200:
            raise RuntimeError(f"the connect handler answered {status}")

    def say(self, text: str, message_id: str) -> None:
        from entrypoints import message
        from entrypoints.local.apigw_events import message_event

        body = json.dumps({"action": "sendMessage", "message": text, "message_id": message_id})
        event = message_event(self._facts, body)
        event["requestContext"]["authorizer"] = AUTHORIZED  # repeated on every frame, as API Gateway does
        status = message.handler(event, None)["statusCode"]
        if status != 200:
            raise RuntimeError(f"the message handler answered {status}")
        self.workers.drain()  # the summary generator, as its stream would trigger it

    def close(self) -> None:
        from entrypoints.container import set_container

        self.container.adapters.repository().close()
        set_container(None)


def _facts() -> Any:
    from entrypoints.local.apigw_events import ConnectionFacts, now_ms

    return ConnectionFacts(
        connection_id="CapacityConn00=",
        connected_at=now_ms(),
        domain_name="capacity.local",
        source_ip="127.0.0.1",
        user_agent="manga-assist capacity",
        headers=(),
        query=(("customer_id", "capacity"),),
    )


# As deployed, an authorizer names the customer (AUTH_MODE=none would read the session first).
AUTHORIZED = {"customer_id": "capacity", "principalId": "capacity"}


def _connect_event(facts: Any) -> dict[str, Any]:
    from entrypoints.local.apigw_events import connect_event

    event = connect_event(facts)
    event["requestContext"]["authorizer"] = AUTHORIZED
    return event


def plan(per_message: dict[str, float], rate: float, price_read: float, price_write: float) -> dict[str, Any]:
    month = rate * SECONDS_PER_MONTH

    def side(rcu: float, wcu: float) -> dict[str, float]:
        return {
            "rcu_per_message": round(rcu, 3),
            "wcu_per_message": round(wcu, 3),
            "rcu_per_second": round(rcu * rate, 1),
            "wcu_per_second": round(wcu * rate, 1),
            "monthly_on_demand_usd": round((rcu * month * price_read + wcu * month * price_write) / 1e6, 2),
        }

    ours = side(per_message["rcu"], per_message["wcu"] + per_message["gsi_wcu"])
    ours["dynamodb_calls_per_message"] = round(per_message["calls"], 2)
    ours["of_which_index_wcu"] = round(per_message["gsi_wcu"], 3)
    return {"messages_per_second": rate, "ours": ours, "original_design": side(ORIGINAL_RCU, ORIGINAL_WCU)}


def render(report: dict[str, Any]) -> str:
    ours, original = report["ours"], report["original_design"]
    rows = [
        ("read units per message", "rcu_per_message"),
        ("write units per message", "wcu_per_message"),
        ("read units per second", "rcu_per_second"),
        ("write units per second", "wcu_per_second"),
        ("monthly on-demand cost (USD)", "monthly_on_demand_usd"),
    ]
    lines = [
        f"DynamoDB capacity at {report['messages_per_second']:g} messages/s, measured on this code",
        "",
        f"{'':<32}{'ours':>14}{'original design':>18}",
    ]
    lines += [f"{label:<32}{ours[k]:>14}{original[k]:>18}" for label, k in rows]
    lines += [
        "",
        f"ours: {ours['dynamodb_calls_per_message']} calls a message, summaries included; "
        f"{ours['of_which_index_wcu']} of the write units rewrite the connection index.",
        "Transactions bill writes twice: that is the price of exactly-once turns, ownership checks and",
        "replayable writes. The original design's figures are its own account (2 RCU + 3 WCU).",
        "Storage and stream reads by Lambda (free) are not included.",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    report(sys.argv[1:] if argv is None else argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
