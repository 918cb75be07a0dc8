"""The environment the local server gives the handlers (docs/PROTOCOL.md §13): the Management API is this
server, and the store and model are chosen by flags. Without AWS credentials, and when nothing real
in AWS is reached, boto3 gets harmless dummy ones: it signs every request, even to 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from attrs import evolve, field, frozen

from entrypoints.local.limits import GatewayLimits

DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
DEFAULT_REGION = "us-east-1"
# Any of these means boto3 will find credentials of the developer's own: never shadow them.
CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


@frozen
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8080
    store: str | None = None  # memory | dynamodb; None: SESSION_STORE, else memory
    endpoint_url: str | None = None  # DynamoDB endpoint (a moto server, DynamoDB Local)
    llm: str | None = None  # fake | bedrock; None: LLM_PROVIDER, else fake
    workers: int = 64
    auth: str | None = None  # jwt | guest | none; None: AUTH_MODE, else guest
    open_management_api: bool = False  # answer /@connections from any address, not only loopback
    limits: GatewayLimits = field(factory=GatewayLimits)

    def resolved(self, env: Mapping[str, str]) -> ServeOptions:
        """Flags win; the environment (docs/PROTOCOL.md §13) fills what they leave out."""
        return evolve(
            self,
            store=(self.store or env.get("SESSION_STORE", "").strip().lower() or "memory"),
            llm=(self.llm or env.get("LLM_PROVIDER", "").strip().lower() or "fake"),
            auth=(self.auth or env.get("AUTH_MODE", "").strip().lower() or "guest"),
            endpoint_url=self.endpoint_url
            or env.get("AWS_ENDPOINT_URL_DYNAMODB")
            or env.get("AWS_ENDPOINT_URL")
            or None,
        )


def display_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def callback_host(host: str) -> str:
    """Where the handlers reach this server: a wildcard address listens everywhere but is no
    destination, so they use the loopback address of its family."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)


def has_credentials(env: Mapping[str, str], home: Path | None = None) -> bool:
    if any(env.get(name) for name in CREDENTIAL_VARIABLES):
        return True
    home = home or Path.home()
    files = (
        env.get("AWS_SHARED_CREDENTIALS_FILE") or home / ".aws" / "credentials",
        env.get("AWS_CONFIG_FILE") or home / ".aws" / "config",
    )
    return any(Path(name).is_file() for name in files)


def reaches_aws(options: ServeOptions) -> bool:
    """Whether some request would go to real AWS (and so needs the real credential chain)."""
    return options.llm == "bedrock" or (options.store == "dynamodb" and not options.endpoint_url)


def server_environment(options: ServeOptions, port: int, env: Mapping[str, str]) -> dict[str, str]:
    """The variables to set (never to remove) for a server listening on ``port``."""
    options = options.resolved(env)
    changes = {
        "WEBSOCKET_CALLBACK_URL": f"http://{display_host(callback_host(options.host))}:{port}",
        "SESSION_STORE": options.store or "memory",
        "LLM_PROVIDER": options.llm or "fake",
        "AUTH_MODE": options.auth or "guest",
    }
    if options.endpoint_url and options.endpoint_url != env.get("AWS_ENDPOINT_URL"):
        changes["AWS_ENDPOINT_URL_DYNAMODB"] = options.endpoint_url
    if not (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")):
        changes["AWS_DEFAULT_REGION"] = DEFAULT_REGION
    if not reaches_aws(options) and not has_credentials(env):
        changes.update(DUMMY_CREDENTIALS)
    return changes


def apply(changes: Mapping[str, str]) -> None:
    os.environ.update(changes)
