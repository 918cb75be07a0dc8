"""``manga-assist usage`` against DynamoDB over HTTP: the customer-days the message path charged, read
back with percentiles, one customer's and one day's."""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

import pytest

from entrypoints.cli import main
from testing.aws import TABLE
from testing.fakes import ManualClock
from testing.harness import Chat
from tests.dynamodb.conftest import DYNAMODB_ENV, close

pytestmark = pytest.mark.moto_server


def usage(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["usage", *args, "--json", "--table", TABLE]) == 0
    report: dict[str, Any] = json.loads(out.getvalue())
    return report


@pytest.mark.usefixtures("table")
def test_usage_reads_back_what_the_message_path_charged(
    clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = Chat(env={**DYNAMODB_ENV, "DAILY_TOKENS": "1000000"}, clock=clock)
    try:
        for n, customer in enumerate(["cust-a", "cust-a", "cust-b"]):
            assert chat.connect(f"connUsage{n:03d}=", customer) == 200
            assert chat.say(f"connUsage{n:03d}=", f"Is volume {n} in stock?", f"m-{n}") == 200
        clock.advance(24 * 3600)
        assert chat.connect("connUsage009=", "cust-a") == 200
        assert chat.say("connUsage009=", "and tomorrow?", "m-9") == 200
        spent = [chat.llm.input_tokens(p) for p in chat.llm.prompts]
    finally:
        close(chat)

    monkeypatch.setenv("SESSION_STORE", "dynamodb")
    monkeypatch.setenv("DAILY_TOKENS", "1000000")
    mine = usage("--customer", "cust-a")
    assert [(d["day"], d["replies"]) for d in mine["days"]] == [("2026-11-27", 2), ("2026-11-28", 1)]
    assert mine["days"][0]["tokens"] > spent[0] + spent[1]  # input and output, as the model counted them
    assert mine["tokens_per_day"]["customer_days"] == 2
    assert mine["tokens_per_day"]["max"] == max(d["tokens"] for d in mine["days"])

    day = usage("--day", "2026-11-27")
    per_customer = {c["customer_id"]: c["tokens"] for c in day["heaviest"]}
    assert set(per_customer) == {"cust-a", "cust-b"}
    assert day["all_customers_tokens"] == sum(per_customer.values())  # the shards add up to the same
    assert day["tokens_per_customer"]["p50"] == min(per_customer.values())
    assert day["of_daily_budget"] == round(100 * day["all_customers_tokens"] / 1_000_000, 1)

    for args, expected in ((["--customer", "cust-a"], "2026-11-28"), (["--day", "2026-11-27"], "heaviest")):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["usage", *args, "--table", TABLE]) == 0
        assert expected in out.getvalue() and "p90" in out.getvalue()
