"""``manga-assist usage``: model tokens per customer-day, with percentiles, against the limits.

    manga-assist usage --customer ID      one customer's days (kept 35 days)
    manga-assist usage [--day 2026-12-01] every customer of one UTC day (today by default)

From DynamoDB at an endpoint, or from the memory store of a running ``manga-assist serve``
(``--server``). A day's report scans the table for that day's usage items: an operator's tool,
not for a request path."""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.parse
from typing import Any

from application.usage import PERCENTILES
from entrypoints.aws_access import reaching_aws
from entrypoints.commands import local_server

DAY_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--customer", metavar="ID", help="one customer's days")
    which.add_argument("--day", metavar="YYYY-MM-DD", help="one UTC day's customers (default: today)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON, for tools")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--server", metavar="URL", help="a running `manga-assist serve`, e.g. http://127.0.0.1:8080"
    )
    where.add_argument("--endpoint-url", metavar="URL", help="DynamoDB endpoint (implies --store dynamodb)")
    parser.add_argument("--table", help="table name (default: SESSION_TABLE or manga-assist-sessions)")


def run(args: argparse.Namespace) -> int:
    if args.day and not DAY_PATTERN.match(args.day):
        print("--day must be a UTC date like 2026-12-01", file=sys.stderr)
        return 2
    report = _from_server(args) if args.server else _from_store(args)
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


def _from_server(args: argparse.Namespace) -> dict[str, Any]:
    asked = {"customer": args.customer, "day": args.day}
    query = urllib.parse.urlencode({name: value for name, value in asked.items() if value})
    report: dict[str, Any] = local_server.call(args.server, f"/admin/usage?{query}", timeout=10)
    return report


def _from_store(args: argparse.Namespace) -> dict[str, Any]:
    from application.usage import UsageReport
    from entrypoints.commands.operator_store import operator_container

    # The same rule as every command that reaches AWS: a local endpoint gets dummy credentials,
    # AWS itself without credentials a one-line error.
    with reaching_aws(args.endpoint_url) as endpoint:
        container = operator_container(endpoint, args.table)
        report = UsageReport(
            container.adapters.repository(),
            container.adapters.clock(),
            container.use_cases.settings().limits,
        )
        return report.customer(args.customer) if args.customer else report.day(args.day)


def render(report: dict[str, Any]) -> str:
    if "customer_id" in report:
        budget = _budget(report["customer_daily_tokens"])
        lines = [f"customer {report['customer_id']}  (budget {budget} a day)"]
        lines.append("  tokens per day: " + _distribution(report["tokens_per_day"]))
        lines.append("")
        for day in report["days"]:
            share = f"  {day['of_budget']:5.1f}% of budget" if day["of_budget"] is not None else ""
            lines.append(f"  {day['day']}  {day['tokens']:>10} tokens  {day['replies']:>5} replies{share}")
        return "\n".join(lines)
    everyone = report["all_customers_tokens"]
    share = f" ({report['of_daily_budget']}% of {report['daily_tokens']})" if report["daily_tokens"] else ""
    lines = [
        f"day {report['day']}  all customers {everyone} tokens{share}",
        "  tokens per customer: " + _distribution(report["tokens_per_customer"]),
        f"  customers at their daily budget ({_budget(report['customer_daily_tokens'])}): "
        f"{report['customers_at_budget']}",
    ]
    if report["heaviest"]:
        lines.append("")
        lines.append("  heaviest:")
        lines.extend(
            f"    {c['customer_id']:<40} {c['tokens']:>10} tokens  {c['replies']:>5} replies"
            for c in report["heaviest"]
        )
    return "\n".join(lines)


def _distribution(values: dict[str, int]) -> str:
    cells = [f"p{pct} {values[f'p{pct}']}" for pct in PERCENTILES]
    return f"{values['customer_days']} customer-days  " + "  ".join(cells) + f"  max {values['max']}"


def _budget(tokens: int) -> str:
    return str(tokens) if tokens else "none"
