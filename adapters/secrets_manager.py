"""A shared secret kept in AWS Secrets Manager, read by ARN once per container (the authorizer's
HS256 secret, ``AUTH_HS256_SECRET_ARN``). botocore's timeouts are short: an authorizer that cannot
read its secret refuses everyone, quickly, rather than hang until API Gateway gives up."""

from __future__ import annotations

from typing import Any

from botocore.config import Config

from application.authentication import VerificationUnavailable

CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=2, retries={"max_attempts": 2, "mode": "standard"})


class SecretUnavailable(VerificationUnavailable):
    """The secret could not be read: nobody is let in meanwhile."""


def aws_session() -> Any:
    import boto3

    return boto3.session.Session()


def read_secret(session: Any, arn: str, region: str) -> bytes:
    from botocore.exceptions import BotoCoreError, ClientError

    client = session.client("secretsmanager", region_name=region, config=CLIENT_CONFIG)
    try:
        answer = client.get_secret_value(SecretId=arn)
    except (BotoCoreError, ClientError) as error:
        raise SecretUnavailable(f"the shared secret could not be read ({type(error).__name__})") from None
    text = answer.get("SecretString")
    if not isinstance(text, str) or not text:
        raise SecretUnavailable("the shared secret is not a string")
    return text.encode("utf-8")
