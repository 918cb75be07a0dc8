"""One rule for reaching AWS, or a local stand-in of it, shared by ``serve``, ``inspect``, ``redrive``
and ``create-table``:

- an endpoint URL (``--endpoint-url``, else ``AWS_ENDPOINT_URL``/``AWS_ENDPOINT_URL_DYNAMODB``) is a
  local stand-in (moto, DynamoDB Local) and serves every client the command makes of the table's
  family (DynamoDB, its Streams, SQS); the model (Bedrock) is never sent there;
- nothing real reached and no credentials of the developer's own: boto3 gets harmless dummy ones (it
  signs every request, even to 127.0.0.1);
- real AWS reached and no credentials anywhere boto3 looks: a one-line error, before any call."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
DEFAULT_REGION = "us-east-1"
# The services a local endpoint stands in for, by boto3's per-service endpoint variable (named after
# the service id: "DynamoDB Streams" is AWS_ENDPOINT_URL_DYNAMODB_STREAMS).
LOCAL_SERVICES = ("DYNAMODB", "DYNAMODB_STREAMS", "SQS")
# Any of these means boto3 will find credentials of the developer's own: never shadow them.
CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)
NO_CREDENTIALS = (
    "no AWS credentials found (AWS_PROFILE, AWS_ACCESS_KEY_ID, ~/.aws, or an instance role): "
    "configure them, or pass --endpoint-url for a local stand-in such as moto_server"
)


class NoAwsCredentials(Exception):
    def __init__(self) -> None:
        super().__init__(NO_CREDENTIALS)


def endpoint_from(flag: str | None, env: Mapping[str, str]) -> str | None:
    return flag or env.get("AWS_ENDPOINT_URL_DYNAMODB") or env.get("AWS_ENDPOINT_URL") or None


def has_credentials(env: Mapping[str, str], home: Path | None = None) -> bool:
    """Whether boto3 will find credentials of the developer's own, without asking the network."""
    if any(env.get(name) for name in CREDENTIAL_VARIABLES):
        return True
    home = home or Path.home()
    files = (
        env.get("AWS_SHARED_CREDENTIALS_FILE") or home / ".aws" / "credentials",
        env.get("AWS_CONFIG_FILE") or home / ".aws" / "config",
    )
    return any(Path(name).is_file() for name in files)


def aws_environment(endpoint_url: str | None, reaches_aws: bool, env: Mapping[str, str]) -> dict[str, str]:
    """The variables to set (never to remove) so that every client the command makes goes where
    the rule says, signed with the credentials the rule gives."""
    changes: dict[str, str] = {}
    if endpoint_url and endpoint_url != env.get("AWS_ENDPOINT_URL"):
        for service in LOCAL_SERVICES:
            changes[f"AWS_ENDPOINT_URL_{service}"] = endpoint_url
    if not (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")):
        changes["AWS_DEFAULT_REGION"] = DEFAULT_REGION
    if not reaches_aws and not has_credentials(env):
        changes.update(DUMMY_CREDENTIALS)
    return changes


def require_credentials() -> None:
    """Real AWS needs real credentials: refuse now, in one line, rather than in a trace from the
    first call. (boto3's own chain, so an instance or container role counts.)"""
    from adapters.aws_failures import credentials_found

    if not credentials_found():
        raise NoAwsCredentials()


@contextlib.contextmanager
def reaching_aws(endpoint_flag: str | None) -> Iterator[str | None]:
    """For the length of one command: the rule applied to this process's environment (boto3 reads it
    when it makes a client), then put back as it was, so that a command run in-process (a test)
    leaves nothing behind. Yields the endpoint; None means AWS itself, whose credentials are checked
    first."""
    endpoint = endpoint_from(endpoint_flag, os.environ)
    changes = aws_environment(endpoint, reaches_aws=endpoint is None, env=os.environ)
    saved = {name: os.environ.get(name) for name in changes}
    os.environ.update(changes)
    try:
        if endpoint is None:
            require_credentials()
        yield endpoint
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
