"""The store an operator's command reads (``inspect``, ``usage``): DynamoDB, at an endpoint or in the
account, by its table. Never the memory store: that one lives inside a running ``manga-assist serve``,
which the commands ask over HTTP instead (``--server``)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from entrypoints.container import Container


def operator_container(endpoint_url: str | None, table: str | None) -> Container:
    from entrypoints.container import build_container

    if endpoint_url:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint_url  # boto3 reads it when it makes a client
    env = dict(os.environ)
    if endpoint_url:
        env["SESSION_STORE"] = "dynamodb"
    if table:
        env["SESSION_TABLE"] = table
    if env.get("SESSION_STORE", "memory") == "memory":
        raise SystemExit(
            "the memory store lives in its server: use --server URL, or --endpoint-url for DynamoDB"
        )
    return build_container(env)
