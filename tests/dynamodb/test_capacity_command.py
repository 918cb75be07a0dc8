"""``manga-assist capacity``: measured on the real message path, beside the original's account."""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

from entrypoints.cli import main


def run(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["capacity", *args, "--json", "--sample", "10"]) == 0
    report: dict[str, Any] = json.loads(out.getvalue())
    return report


def test_capacity_is_measured_and_scales_with_the_rate_and_the_message_size() -> None:
    small = run("--messages-per-second", "10", "--avg-message-chars", "100")
    ours, original = small["ours"], small["original_design"]
    assert original["rcu_per_message"] == 2 and original["wcu_per_message"] == 3
    # Two transactions of three items each, billed double: at least 12 write units a message.
    assert ours["wcu_per_message"] >= 12 and ours["rcu_per_message"] > 0
    assert 4 <= ours["dynamodb_calls_per_message"] < 8
    assert ours["wcu_per_second"] == round(ours["wcu_per_message"] * 10, 1)

    large = run("--messages-per-second", "10", "--avg-message-chars", "6000")
    assert large["ours"]["wcu_per_message"] > ours["wcu_per_message"]  # bigger turns, more 1 KB units
    assert large["ours"]["monthly_on_demand_usd"] > ours["monthly_on_demand_usd"]
