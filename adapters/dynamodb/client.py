"""The DynamoDB client: botocore's retries and timeouts from ``errors.client_config``.

With no ``endpoint_url`` boto3 resolves the endpoint itself, honouring ``AWS_ENDPOINT_URL_DYNAMODB``
and ``AWS_ENDPOINT_URL`` (moto server, DynamoDB Local)."""

from __future__ import annotations

from typing import Any

import boto3

from adapters.dynamodb.errors import client_config


def dynamodb_client(
    session: Any | None = None, region: str | None = None, endpoint_url: str | None = None
) -> Any:
    session = session or boto3.session.Session()
    return session.client("dynamodb", region_name=region, endpoint_url=endpoint_url, config=client_config())
