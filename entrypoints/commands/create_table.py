"""``manga-assist create-table``: the session table of docs/PROTOCOL.md §11 (keys, the connection index,
on-demand billing, Streams, TTL) at any endpoint — a moto server or DynamoDB Local for local runs.
Idempotent: an existing table is left as it is (its TTL switched on if it was not)."""

from __future__ import annotations

import argparse
import os

from entrypoints.aws_access import reaching_aws

DEFAULT_TABLE = "manga-assist-sessions"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="DynamoDB endpoint, e.g. http://127.0.0.1:5000 (default: AWS_ENDPOINT_URL_DYNAMODB, "
        "AWS_ENDPOINT_URL, else AWS itself)",
    )
    parser.add_argument("--table", help=f"table name (default: SESSION_TABLE or {DEFAULT_TABLE})")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or us-east-1)")


def run(args: argparse.Namespace) -> int:
    from adapters.dynamodb.client import dynamodb_client
    from adapters.dynamodb.table import TABLE_ERRORS, create_table
    from entrypoints.commands.failures import CommandFailure, explain

    table = args.table or os.environ.get("SESSION_TABLE", "").strip() or DEFAULT_TABLE
    with reaching_aws(args.endpoint_url):
        region = args.region or os.environ.get("AWS_REGION") or os.environ["AWS_DEFAULT_REGION"]
        client = dynamodb_client(region=region, endpoint_url=args.endpoint_url)
        where = client.meta.endpoint_url
        try:
            created = create_table(client, table)
        except TABLE_ERRORS as error:
            why = explain(error) or error
            raise CommandFailure(f"could not create table {table} at {where}: {why}") from None
    if created:
        print(f"created table {table} at {where} (GSI, Streams, TTL on ttl)")
    else:
        print(f"table {table} already exists at {where}; nothing to do")
    return 0
