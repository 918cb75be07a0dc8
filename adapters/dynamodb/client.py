"""The DynamoDB client: botocore's retries and timeouts from ``errors.client_config``.

With no ``endpoint_url`` boto3 resolves the endpoint itself, honouring ``AWS_ENDPOINT_URL_DYNAMODB``
and ``AWS_ENDPOINT_URL`` (moto server, DynamoDB Local)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3

from adapters.dynamodb.errors import client_config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def dynamodb_client(
    session: boto3.session.Session | None = None, region: str | None = None, endpoint_url: str | None = None
) -> DynamoDBClient:
    session = session or boto3.session.Session()
    return session.client("dynamodb", region_name=region, endpoint_url=endpoint_url, config=client_config())
